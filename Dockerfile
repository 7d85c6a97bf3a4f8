# classmeet: a static binary on a distroless base, running as a non-root user.
# Build: docker build -t classmeet . (or docker-compose build)
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/classmeet ./cmd/classmeet && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/classmeet /usr/local/bin/classmeet
# The recording spool (and recordings, without S3): owned by the non-root user, so a volume mounted here is too.
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
ENV CLASSMEET_ADDR=0.0.0.0:8080 CLASSMEET_DATA_DIR=/data
VOLUME /data
# HTTP, and media: one UDP port for everyone, one TCP port where UDP is blocked.
EXPOSE 8080/tcp 7882/udp 7881/tcp
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/classmeet", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/classmeet"]
CMD ["serve"]
