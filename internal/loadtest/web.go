package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"classmeet/internal/store"
)

// web is one browser's HTTP side: a cookie jar, the server's origin on
// every form post (the server refuses cross-origin posts), no redirects
// followed (a 303 is the answer to a form).
type web struct {
	base string
	http *http.Client
}

func newWeb(base string) *web {
	jar, _ := cookiejar.New(nil)
	return &web{base: strings.TrimRight(base, "/"), http: &http.Client{
		Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (w *web) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("loadtest: post %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.base)
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadtest: post %s: %w", path, err)
	}
	return resp, nil
}

// postForm posts a form that answers with a redirect, and returns where to.
func (w *web) postForm(ctx context.Context, path string, form url.Values) (string, error) {
	resp, err := w.post(ctx, path, form)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("%w: post %s: %s", ErrRefused, path, resp.Status)
	}
	return resp.Header.Get("Location"), nil
}

func (w *web) login(ctx context.Context, email, password string) error {
	_, err := w.postForm(ctx, "/login", url.Values{"email": {email}, "password": {password}})
	return err
}

// createMeeting schedules a meeting starting now where everyone waits in
// the lobby (so the host admits each participant, as a teacher would).
func (w *web) createMeeting(ctx context.Context, now time.Time, length time.Duration, record bool) (string, error) {
	policy := store.RecordingNotAllowed
	if record {
		policy = store.RecordingHostMayRecord
	}
	now = now.UTC()
	form := url.Values{
		"title": {"Load test"}, "description": {""}, "date": {now.Format("2006-01-02")}, "time": {now.Format("15:04")},
		"duration": {strconv.Itoa(min(max(int(length/time.Minute)+30, 60), 720))}, "time_zone": {"UTC"},
		"lobby_policy": {string(store.LobbyEveryoneWaits)}, "recording_policy": {string(policy)},
		"recording_access": {string(store.RecordingAccessHost)}, "unmute_policy": {string(store.UnmuteSelf)},
		"screen_share_policy": {string(store.ScreenShareHosts)},
	}
	loc, err := w.postForm(ctx, "/meetings", form)
	if err != nil {
		return "", err
	}
	id := strings.TrimPrefix(loc, "/meetings/")
	if id == loc || id == "" {
		return "", fmt.Errorf("%w: scheduling a meeting led to %q", ErrRefused, loc)
	}
	return id, nil
}

// invite adds invitees by name and returns their personal link paths, in
// the order of names, read from the meeting's page as a teacher copies them.
func (w *web) invite(ctx context.Context, meetingID string, names []string) ([]string, error) {
	for _, n := range names {
		form := url.Values{"name": {n}, "email": {""}, "child_name": {""}, "role": {string(store.InviteeParticipant)}}
		if _, err := w.postForm(ctx, "/meetings/"+meetingID+"/invitees", form); err != nil {
			return nil, err
		}
	}
	links, err := w.links(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(names))
	for i, n := range names {
		u, err := url.Parse(links[n])
		if err != nil || u.Path == "" {
			return nil, fmt.Errorf("%w: no link for invitee %d on the meeting's page", ErrRefused, i)
		}
		paths[i] = u.Path
	}
	return paths, nil
}

// links reads invitee name -> personal link from the meeting's page.
func (w *web) links(ctx context.Context, meetingID string) (map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+"/meetings/"+meetingID, nil)
	if err != nil {
		return nil, fmt.Errorf("loadtest: meeting page: %w", err)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadtest: meeting page: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: meeting page: %s", ErrRefused, resp.Status)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("loadtest: meeting page: %w", err)
	}
	links := map[string]string{}
	doc.Find(`[data-testid="invitee"]`).Each(func(_ int, row *goquery.Selection) {
		link, _ := row.Find(`[data-testid="invitee-link"]`).Attr("value")
		links[strings.TrimSpace(row.Find(`[data-testid="invitee-name"]`).Text())] = link
	})
	return links, nil
}

// joinToken asks for a join token at path (/j/{token}/join or
// /meetings/{id}/join) and returns it with the socket's path.
func (w *web) joinToken(ctx context.Context, path, name string) (token, socket string, err error) {
	resp, err := w.post(ctx, path, url.Values{"display_name": {name}})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var body struct{ Token, Socket, Error string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("%w: join: %s %s", ErrRefused, resp.Status, body.Error)
	}
	return body.Token, body.Socket, nil
}
