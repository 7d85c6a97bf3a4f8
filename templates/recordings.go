package templates

import (
	"fmt"
	"time"

	"classmeet/internal/store"
)

// RecordingsView is a meeting's recordings, for its teacher, an
// administrator, or (where allowed) an invitee.
type RecordingsView struct {
	Meeting    store.Meeting
	Zone       *time.Location
	Base       string // the list's URL; files are under it
	Staff      bool   // the teacher or an administrator: may delete
	Recordings []RecordingItem
}

// RecordingItem is one recording session and its files by participant.
type RecordingItem struct {
	store.Recording
	People   []RecordedPerson
	Declined []store.Consent
	Manifest *store.RecordingFile
	Size     int64
}

// RecordedPerson is one recorded participant's files.
type RecordedPerson struct {
	Name        string
	ConsentedAt *time.Time
	Playable    []store.RecordingFile // WebM
	Tracks      []store.RecordingFile // Ogg and IVF, by segment
}

// RecordingEntry groups a recording's files by participant.
func RecordingEntry(rec store.Recording, files []store.RecordingFile, consents []store.Consent) RecordingItem {
	item := RecordingItem{Recording: rec}
	byID := map[string]*RecordedPerson{}
	var order []string
	for _, f := range files {
		if f.Kind == store.FileManifest {
			f := f
			item.Manifest = &f
			continue
		}
		if f.ParticipantID == nil || f.State == store.FileFailed {
			continue
		}
		if f.Kind != store.FileWebM {
			item.Size += f.SizeBytes
		}
		id := f.ParticipantID.String()
		p := byID[id]
		if p == nil {
			p = &RecordedPerson{Name: f.ParticipantName}
			byID[id] = p
			order = append(order, id)
		}
		if f.Kind == store.FileWebM {
			p.Playable = append(p.Playable, f)
		} else {
			p.Tracks = append(p.Tracks, f)
		}
	}
	for _, c := range consents {
		if !c.Accepted {
			item.Declined = append(item.Declined, c)
		} else if p := byID[c.ParticipantID.String()]; p != nil {
			at := c.AnsweredAt
			p.ConsentedAt = &at
		}
	}
	for _, id := range order {
		item.People = append(item.People, *byID[id])
	}
	return item
}

// Length is how long the recording ran.
func (r RecordingItem) Length() time.Duration {
	if r.StoppedAt == nil {
		return 0
	}
	return r.StoppedAt.Sub(r.StartedAt)
}

func stateText(state string) string {
	switch state {
	case store.RecordingActive:
		return "recording now"
	case store.RecordingUploading:
		return "being saved"
	case store.RecordingAvailable:
		return "available"
	case store.RecordingPartial:
		return "partial"
	}
	return "failed"
}

func stateClass(state string) string {
	switch state {
	case store.RecordingAvailable:
		return "badge ok"
	case store.RecordingPartial, store.RecordingActive, store.RecordingUploading:
		return "badge warn"
	}
	return "badge danger"
}

// length formats a duration as h:mm:ss or m:ss.
func length(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func trackText(f store.RecordingFile) string {
	what := map[string]string{"microphone": "Microphone", "camera": "Camera", "screen": "Screen", "screen_audio": "Screen sound"}[f.Source]
	if what == "" {
		what = f.Source
	}
	format := "Ogg/Opus"
	if f.Kind == store.FileVideo {
		format = "IVF/" + map[string]string{"vp8": "VP8", "vp9": "VP9"}[f.Codec]
	}
	text := fmt.Sprintf("%s (%s, %s, %s)", what, format, length(time.Duration(f.DurationMS)*time.Millisecond), size(f.SizeBytes))
	if f.Segment > 1 {
		text = fmt.Sprintf("%s, part %d", text, f.Segment)
	}
	return text
}

func playableText(f store.RecordingFile) string {
	what := "Video and sound"
	if f.Source == "screen" {
		what = "Screen share"
	}
	return fmt.Sprintf("%s (WebM, %s, %s)", what, length(time.Duration(f.DurationMS)*time.Millisecond), size(f.SizeBytes))
}

// PlaybackView plays one recording.
type PlaybackView struct {
	Meeting    store.Meeting
	Recording  store.Recording
	Zone       *time.Location
	Base       string
	Tiles      []PlaybackTile
	DurationMS int64
}

// PlaybackTile is one participant's playable file on the timeline.
type PlaybackTile struct {
	Name       string
	Screen     bool
	URL        string
	StartMS    int64
	DurationMS int64
}
