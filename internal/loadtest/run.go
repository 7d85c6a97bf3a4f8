package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"classmeet/internal/sfu"
)

const (
	joinTimeout  = 30 * time.Second // to first media, per participant
	joinsAtOnce  = 8                // the server allows 20 sockets per address before their join
	drainQuiet   = 500 * time.Millisecond
	drainTimeout = 5 * time.Second
)

// run is one run's participants.
type run struct {
	*env
	staff     *web
	meetingID string
	host      *peer
	pubs      []*peer // invitees who publish
	timed     []*peer // whose joins are timed (sinks; everyone in a meeting)
	mu        sync.Mutex
	gone      []*peer // churners that left
	joinFail  int
}

// Run runs a scenario against a running server and reports what it saw.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	r := &run{env: e, staff: newWeb(cfg.URL)}
	defer r.leaveAll()
	// The server as found: before signing in (whose password hash takes
	// memory for a moment) and before anyone joins.
	before, err := r.sample(ctx)
	if err != nil {
		return nil, err
	}
	links, err := r.prepare(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.joinPublishers(ctx, links); err != nil {
		return nil, err
	}
	links = links[len(r.pubs):]
	if cfg.Scenario == Churn {
		return r.churn(ctx, links, before)
	}
	if err := r.joinSinks(ctx, links); err != nil {
		return nil, err
	}
	return r.measure(ctx, before)
}

// prepare signs in, schedules (or takes) the meeting and invites the
// participants it needs, returning their link paths.
func (r *run) prepare(ctx context.Context) ([]string, error) {
	cfg := r.cfg
	if err := r.staff.login(ctx, cfg.Email, cfg.Password); err != nil {
		return nil, err
	}
	r.meetingID = cfg.MeetingID
	if r.meetingID == "" {
		var err error
		if r.meetingID, err = r.staff.createMeeting(ctx, cfg.Now(), cfg.Duration, cfg.Record); err != nil {
			return nil, err
		}
	}
	n := cfg.M
	switch cfg.Scenario {
	case Meeting:
		n = cfg.N - 1
	case AudioClass:
		n = audioClassSpeakers - 1 + cfg.M
	}
	run := fmt.Sprintf("%04x", uint16(time.Now().UnixNano()>>10)) // tells this run's invitees apart in an existing meeting
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("Load %s %d", run, i+1)
	}
	return r.staff.invite(ctx, r.meetingID, names)
}

// joinPublishers brings in the host (who admits everyone from then on) and
// those who publish, one after another, each until its media flows.
func (r *run) joinPublishers(ctx context.Context, links []string) error {
	hostSrc, others := []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera}, 0
	switch r.cfg.Scenario {
	case Meeting:
		others = r.cfg.N - 1
	case AudioClass:
		hostSrc, others = []sfu.Source{sfu.SourceMicrophone}, audioClassSpeakers-1
	}
	r.host = newPeer(r.env, r.staff, "Load host", hostSrc, true)
	if err := r.enter(ctx, r.host, "/meetings/"+r.meetingID+"/join"); err != nil {
		return err
	}
	if r.cfg.Record {
		if err := r.host.startRecording(ctx); err != nil {
			return err
		}
	}
	for i := range others {
		p := newPeer(r.env, newWeb(r.cfg.URL), fmt.Sprintf("Load speaker %d", i+1), hostSrc, false)
		r.pubs = append(r.pubs, p)
		if err := r.enter(ctx, p, links[i]+"/join"); err != nil {
			return err
		}
	}
	if r.cfg.Scenario == Meeting {
		r.timed = r.pubs
	}
	return nil
}

// enter joins p and waits until it is in the room with its media up.
func (r *run) enter(ctx context.Context, p *peer, path string) error {
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	if err := p.join(ctx, path); err != nil {
		return err
	}
	if err := p.wait(ctx, p.inRoom, "admission"); err != nil {
		return err
	}
	return p.wait(ctx, p.pubUp, "its publishing connection")
}

// want is how many tracks a timed participant must receive from a
// keyframe on (audio: at all) before the run is measured.
func (r *run) want() int {
	switch r.cfg.Scenario {
	case Meeting:
		return r.cfg.N - 1
	case AudioClass:
		return audioClassSpeakers
	}
	return 1
}

// joinSinks joins the subscribers, a few at a time, each until it
// receives what it should.
func (r *run) joinSinks(ctx context.Context, links []string) error {
	sinks := make([]*peer, len(links))
	for i := range links {
		sinks[i] = newPeer(r.env, newWeb(r.cfg.URL), fmt.Sprintf("Load listener %d", i+1), nil, false)
	}
	r.timed = append(r.timed, sinks...)
	errs := make([]error, len(sinks))
	sem := make(chan struct{}, joinsAtOnce)
	var wg sync.WaitGroup
	for i, p := range sinks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if errs[i] = r.enter(ctx, p, links[i]+"/join"); errs[i] == nil {
				errs[i] = r.awaitMedia(ctx, p)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, p := range r.timed {
		if err := r.awaitMedia(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// awaitMedia waits until p receives every track it should, from a keyframe.
func (r *run) awaitMedia(ctx context.Context, p *peer) error {
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for p.sinks.keyed() < r.want() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s got %d of %d tracks: %w", ErrNoMedia, p.name, p.sinks.keyed(), r.want(), ctx.Err())
		case <-tick.C:
		}
		if err := p.err(); err != nil {
			return err
		}
	}
	return nil
}

// everyone is every participant, those who left included.
func (r *run) everyone() []*peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := append([]*peer(nil), r.gone...)
	if r.host != nil {
		all = append(all, r.host)
	}
	all = append(all, r.pubs...)
	for _, p := range r.timed {
		if !contains(all, p) {
			all = append(all, p)
		}
	}
	return all
}

func contains(ps []*peer, p *peer) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// leaveAll makes everyone still there leave, at once.
func (r *run) leaveAll() {
	var wg sync.WaitGroup
	for _, p := range r.everyone() {
		wg.Go(p.leave)
	}
	wg.Wait()
}

// stopAndDrain stops every publisher and waits until nothing more arrives,
// so that what was still in flight (or being repaired) is counted.
func (r *run) stopAndDrain(ctx context.Context) {
	for _, p := range r.everyone() {
		p.stopMedia()
	}
	deadline := time.Now().Add(drainTimeout)
	last, quietSince := r.packets.Load(), time.Now()
	for time.Now().Before(deadline) && time.Since(quietSince) < drainQuiet {
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
		if n := r.packets.Load(); n != last {
			last, quietSince = n, time.Now()
		}
	}
}
