package sfu

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// MaxMLines is how many m-lines a publishing offer may hold: a participant
// sends at most a microphone, a camera, a screen and its sound, and each
// m-line costs the server a transceiver.
const MaxMLines = 8

// checkLabels refuses an offer whose tracks map does not fit its m-lines:
// every labelled mid must be in the offer, carry the kind its source
// carries, and no source may be claimed twice. A client that relabels its
// microphone as a camera (to slip past a mute) is stopped here.
func checkLabels(offer string, tracks map[string]Source) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return fmt.Errorf("sfu: offer: %w", err)
	}
	if n := len(sd.MediaDescriptions); n > MaxMLines {
		return fmt.Errorf("%w: %d m-lines, at most %d", ErrTooManyMLines, n, MaxMLines)
	}
	kinds := map[string]string{}
	for _, md := range sd.MediaDescriptions {
		if err := checkLayers(md); err != nil {
			return err
		}
		if mid, ok := md.Attribute(sdp.AttrKeyMID); ok {
			kinds[mid] = md.MediaName.Media
		}
	}
	seen := map[Source]string{}
	for _, mid := range slices.Sorted(maps.Keys(tracks)) {
		src := tracks[mid]
		media, ok := kinds[mid]
		switch {
		case !src.Valid():
			return fmt.Errorf("%w: unknown source %q", ErrSourceMismatch, src)
		case !ok:
			return fmt.Errorf("%w: no m-line with mid %q", ErrSourceMismatch, mid)
		case media != src.Kind().String():
			return fmt.Errorf("%w: mid %q carries %s, labelled %s", ErrSourceMismatch, mid, media, src)
		case seen[src] != "":
			return fmt.Errorf("%w: %s labels both mid %q and mid %q", ErrSourceMismatch, src, seen[src], mid)
		}
		seen[src] = mid
	}
	return nil
}

// fitsSource reports whether a track that arrived can be the source it is
// labelled with: the negotiated kind and the codec of its first packets
// must both be the source's kind.
func fitsSource(src Source, kind webrtc.RTPCodecType, codec webrtc.RTPCodecParameters) bool {
	return kind == src.Kind() && strings.HasPrefix(strings.ToLower(codec.MimeType), src.Kind().String()+"/")
}

// checkLayers refuses simulcast where the SFU takes none: on audio, with
// more than MaxLayers layers, or with a rid it does not know.
func checkLayers(md *sdp.MediaDescription) error {
	n := 0
	for _, a := range md.Attributes {
		if a.Key != "rid" {
			continue
		}
		rid, _, _ := strings.Cut(a.Value, " ")
		n++
		_, known := layerIndex(rid)
		switch {
		case md.MediaName.Media != "video":
			return fmt.Errorf("%w: simulcast layers on %s", ErrTooManyLayers, md.MediaName.Media)
		case n > MaxLayers:
			return fmt.Errorf("%w: more than %d", ErrTooManyLayers, MaxLayers)
		case !known || rid == "":
			return fmt.Errorf("%w: unknown rid", ErrTooManyLayers)
		}
	}
	return nil
}
