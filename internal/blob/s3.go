package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is how to reach an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // host:port
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	TLS       bool
	PathStyle bool
}

// S3 stores objects in an S3-compatible bucket.
type S3 struct {
	c        *minio.Client
	cfg      S3Config
	bucketOK atomic.Bool
}

// partSize is the multipart part size: large files go in 16 MiB parts.
const partSize = 16 << 20

// OpenS3 makes a client of the bucket and tries to create the bucket if it
// is missing. A server that cannot be reached is not an error here: the
// bucket is checked again before each upload and by Ready, so classmeet
// starts, and meetings run, while storage is down.
func OpenS3(ctx context.Context, cfg S3Config) (*S3, error) {
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.TLS,
		Region: cfg.Region, BucketLookup: lookup, MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 %s: %w", cfg.Endpoint, err)
	}
	s := &S3{c: c, cfg: cfg}
	_ = s.ensureBucket(ctx)
	return s, nil
}

// ensureBucket creates the bucket if it is missing, once.
func (s *S3) ensureBucket(ctx context.Context) error {
	if s.bucketOK.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ok, err := s.c.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("blob: s3 bucket %s at %s: %w", s.cfg.Bucket, s.cfg.Endpoint, err)
	}
	if !ok {
		err := s.c.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("blob: create bucket %s: %w", s.cfg.Bucket, err)
		}
	}
	s.bucketOK.Store(true)
	return nil
}

func (s *S3) String() string { return fmt.Sprintf("s3 bucket %s at %s", s.cfg.Bucket, s.cfg.Endpoint) }

// Put uploads the file (multipart above the part size), then reads the
// stored copy back to compare its size and SHA-256 with the file's.
func (s *S3) Put(ctx context.Context, key, path, contentType string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	want, err := fileSum(path)
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := s.ensureBucket(ctx); err != nil {
		return Info{}, err
	}
	_, err = s.c.FPutObject(ctx, s.cfg.Bucket, key, path, minio.PutObjectOptions{
		ContentType: contentType, PartSize: partSize, UserMetadata: map[string]string{"sha256": want.SHA256},
	})
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, err)
	}
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("blob: read back %s: %w", key, err)
	}
	defer obj.Close()
	got, err := sum(obj)
	if err != nil {
		return Info{}, fmt.Errorf("blob: read back %s: %w", key, err)
	}
	if got != want {
		return Info{}, fmt.Errorf("%w: %s: stored %d bytes %s, file %d bytes %s", ErrMismatch, key, got.Size, got.SHA256, want.Size, want.SHA256)
	}
	return got, nil
}

// Open opens a stored object; reads are ranged requests.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	return s3Object{Object: obj, info: st}, nil
}

type s3Object struct {
	*minio.Object
	info minio.ObjectInfo
}

func (o s3Object) Size() int64        { return o.info.Size }
func (o s3Object) ModTime() time.Time { return o.info.LastModified }

// Delete removes an object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.c.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// Ready checks the bucket answers (creating it if it is missing).
func (s *S3) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.ensureBucket(ctx); err != nil {
		return err
	}
	ok, err := s.c.BucketExists(ctx, s.cfg.Bucket)
	if err == nil && !ok {
		err = errors.New("bucket missing")
	}
	if err != nil {
		return fmt.Errorf("blob: %s: %w", s, err)
	}
	return nil
}
