package loadtest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// snapshot is the state of the run and of the server at one moment.
type snapshot struct {
	at             time.Time
	proc           procSample
	runtime        runtimeSample
	packets, bytes uint64
	self           time.Duration // the generator's CPU
	ticks, late    uint64
}

func (r *run) sample(ctx context.Context) (snapshot, error) {
	s := snapshot{at: time.Now(), packets: r.packets.Load(), bytes: r.bytes.Load(), self: selfCPU(),
		ticks: r.sched.ticks.Load(), late: r.sched.late.Load()}
	var err error
	if r.cfg.ServerPID > 0 {
		if s.proc, err = readProc(r.cfg.ServerPID); err != nil {
			return s, err
		}
	}
	if r.cfg.Metrics != "" {
		if s.runtime, err = readRuntime(ctx, r.cfg.Metrics); err != nil {
			return s, err
		}
	}
	return s, nil
}

// measure waits out the window with everyone in, then stops the media,
// lets the last packets (and their repairs) arrive, and reports.
func (r *run) measure(ctx context.Context, before snapshot) (*Report, error) {
	w0, err := r.sample(ctx)
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("loadtest: %w", ctx.Err())
	case <-time.After(r.cfg.Duration):
	}
	w1, err := r.sample(ctx)
	if err != nil {
		return nil, err
	}
	r.stopAndDrain(ctx)
	r.leaveAll()
	return r.report(before, w0, w1, 1+len(r.pubs)+len(r.timed)-r.overlap()), nil
}

// overlap is how many of the timed participants also publish (a meeting).
func (r *run) overlap() int {
	if r.cfg.Scenario == Meeting {
		return len(r.pubs)
	}
	return 0
}

// churn has subscribers join at the configured rate, each staying a while
// after its first frame and then leaving, for the whole window.
func (r *run) churn(ctx context.Context, links []string, before snapshot) (*Report, error) {
	pool := make(chan string, len(links))
	for _, l := range links {
		pool <- l
	}
	w0, err := r.sample(ctx)
	if err != nil {
		return nil, err
	}
	end := time.After(r.cfg.Duration)
	tick := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.ChurnRate))
	defer tick.Stop()
	var wg sync.WaitGroup
	n := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
		select {
		case link := <-pool:
			n++
			name := fmt.Sprintf("Load churner %d", n)
			wg.Go(func() { r.churner(ctx, name, link); pool <- link })
		default: // all M are in: this tick's join waits for one to leave
		}
	}
	w1, err := r.sample(ctx)
	if err != nil {
		return nil, err
	}
	wg.Wait()
	r.stopAndDrain(ctx)
	r.leaveAll()
	return r.report(before, w0, w1, 1+r.cfg.M), nil
}

func (r *run) churner(ctx context.Context, name, link string) {
	p := newPeer(r.env, newWeb(r.cfg.URL), name, nil, false)
	err := r.enter(ctx, p, link+"/join")
	if err == nil {
		err = r.awaitMedia(ctx, p)
	}
	if err == nil {
		select {
		case <-ctx.Done():
		case <-time.After(r.cfg.ChurnStay):
		}
	} else {
		r.log.Warn("loadtest: a churning join failed", "err", err)
	}
	p.leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone = append(r.gone, p)
	if err != nil {
		r.joinFail++
	}
}

// report puts the run's figures together; every participant has left.
func (r *run) report(before, w0, w1 snapshot, participants int) *Report {
	window := w1.at.Sub(w0.at)
	rep := &Report{Scenario: r.cfg.Scenario, Participants: participants, Publishers: 1 + len(r.pubs),
		WindowS: window.Seconds(), Recording: r.cfg.Record, JoinFail: r.joinFail}
	rep.DeliveredMbps = float64(w1.bytes-w0.bytes) * 8 / window.Seconds() / 1e6
	rep.DeliveredPPS = float64(w1.packets-w0.packets) / window.Seconds()
	var gaps, missing uint64
	var lat histogram
	var timed []*peer
	for _, p := range r.everyone() {
		rep.SentPackets += p.sent.Load()
		for _, t := range p.sinks.tracks() {
			rep.Expected += t.seq.expected()
			gaps += t.seq.gaps
			missing += t.seq.missing()
			rep.Duplicates += t.seq.dups
			lat.merge(&t.latency)
		}
		if contains(r.timed, p) || (contains(r.gone, p) && p.sinks.firstKey.Load() != 0) {
			timed = append(timed, p)
		}
	}
	for _, p := range r.timed {
		n, _ := p.sinks.counts()
		rep.PacketsPerSink = append(rep.PacketsPerSink, n)
	}
	rep.Subscribers = len(timed)
	if r.cfg.Scenario == Churn {
		rep.Joins = len(timed)
	}
	if rep.Expected > 0 {
		rep.LossBeforeNACK = float64(gaps) / float64(rep.Expected)
		rep.LossAfterNACK = float64(missing) / float64(rep.Expected)
	}
	rep.JoinPhases = phases(timed)
	rep.LatencyP50ms, rep.LatencyP99ms = ms(lat.quantile(0.50)), ms(lat.quantile(0.99))
	rep.Generator = r.generator(w0, w1)
	if r.cfg.ServerPID > 0 {
		rep.Server = serverCost(before, w0, w1, participants)
	}
	rep.Invalid = saturated(rep.Generator)
	return rep
}

// phases are the join phases' percentiles. A state callback may run a
// moment after the first packet it made possible was read: a connection
// was up no later than media arrived over it, so each phase is capped by
// the next.
func phases(ps []*peer) []Phase {
	names := phaseNames()
	samples := make([][]time.Duration, len(names))
	for _, p := range ps {
		start := p.start.Load()
		at := []int64{p.signaled.Load(), p.iceAt.Load(), p.dtlsAt.Load(), p.sinks.firstRTP.Load(), p.sinks.firstKey.Load()}
		for i := len(at) - 2; i >= 0; i-- {
			if at[i] == 0 || (at[i+1] != 0 && at[i+1] < at[i]) {
				at[i] = at[i+1]
			}
		}
		for i, t := range at {
			if t != 0 {
				samples[i] = append(samples[i], time.Duration(t-start))
			}
		}
	}
	out := make([]Phase, len(names))
	for i, name := range names {
		out[i] = Phase{Name: name, P50ms: ms(percentile(samples[i], 0.50)), P95ms: ms(percentile(samples[i], 0.95))}
	}
	return out
}

func serverCost(before, w0, w1 snapshot, participants int) *ServerCost {
	const mib = 1 << 20
	cpu := w1.proc.cpu - w0.proc.cpu
	window := w1.at.Sub(w0.at)
	s := &ServerCost{
		CPUPercent:   100 * cpu.Seconds() / window.Seconds(),
		RSSBeforeMiB: float64(before.proc.rss) / mib, RSSDuringMiB: float64(w1.proc.rss) / mib,
		ThreadsBefore: before.proc.threads, ThreadsDuring: w1.proc.threads,
		GoroutinesBefore: before.runtime.goroutines, GoroutinesDuring: w1.runtime.goroutines,
	}
	if pkts := w1.packets - w0.packets; pkts > 0 && w1.runtime.mallocs > 0 {
		s.AllocsPerPacket = float64(w1.runtime.mallocs-w0.runtime.mallocs) / float64(pkts)
	}
	s.RSSPerParticipantMiB = (s.RSSDuringMiB - s.RSSBeforeMiB) / float64(participants)
	if pkts := w1.packets - w0.packets; pkts > 0 {
		s.CPUUsPerPacket = float64(cpu.Microseconds()) / float64(pkts)
		s.CPUSecondsPerGbit = cpu.Seconds() / (float64(w1.bytes-w0.bytes) * 8 / 1e9)
	}
	return s
}

func (r *run) generator(w0, w1 snapshot) Generator {
	procs := runtime.GOMAXPROCS(0)
	return Generator{
		GOMAXPROCS: procs,
		CPUPercent: 100 * (w1.self - w0.self).Seconds() / (w1.at.Sub(w0.at).Seconds() * float64(procs)),
		Ticks:      w1.ticks - w0.ticks, LateTicks: w1.late - w0.late,
		MaxLagMs:        ms(time.Duration(r.sched.maxLag.Load())),
		SelfIsServerPID: r.cfg.ServerPID == os.Getpid(),
	}
}

// saturated says why the generator could not be trusted, or "": it used
// nearly all the CPU it may, or its send ticks were often late.
func saturated(g Generator) string {
	switch {
	case !g.SelfIsServerPID && g.CPUPercent > 90:
		return fmt.Sprintf("generator saturated: %.0f %% of its %d CPUs", g.CPUPercent, g.GOMAXPROCS)
	case g.Ticks > 0 && float64(g.LateTicks) > 0.05*float64(g.Ticks):
		return fmt.Sprintf("generator saturated: %d of %d send ticks more than %v late", g.LateTicks, g.Ticks, lateTick)
	}
	return ""
}
