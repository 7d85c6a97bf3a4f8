package netshape

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Link is what one direction of a client's link does to the datagrams it
// carries, in this order: random loss, then the rate cap's queue, then delay.
type Link struct {
	// Loss is the chance (0 to 1) that a datagram is dropped, drawn
	// independently for each from the relay's seeded generator.
	Loss float64
	// Delay is added to every datagram. Order is kept: when Delay is
	// lowered, later datagrams wait for earlier ones.
	Delay time.Duration
	// Rate caps the link in bits per second (0: unlimited) with a token
	// bucket holding a burst of 20 ms of traffic, at least two full-size
	// datagrams, as the e2e tests' tbf caps do.
	Rate int64
	// QueueDelay bounds how long a datagram may wait for tokens; one that
	// would wait longer is dropped, as tbf's latency does. 0 means
	// DefaultQueueDelay.
	QueueDelay time.Duration
}

// DefaultQueueDelay is the queue of a rate-capped link whose QueueDelay is
// 0: what a mobile or DSL link buffers.
const DefaultQueueDelay = 300 * time.Millisecond

// minBurst is two full-size (1500-byte) datagrams' worth of tokens.
const minBurst = 3000

// Counters are what one direction of a client's link did. Offered counts
// every datagram that entered it; the others count where they went (what
// is still queued is in none of them).
type Counters struct {
	Offered      uint64 // datagrams that entered the link
	Forwarded    uint64 // datagrams delivered
	Bytes        uint64 // bytes delivered
	DroppedLoss  uint64 // dropped at random (Link.Loss)
	DroppedQueue uint64 // dropped because the rate cap's queue was full
}

// packet is a datagram waiting in a pipe, and where it goes when due.
type packet struct {
	data []byte
	due  time.Time
	to   func([]byte)
}

// pipe is one direction of one client's link. push decides at once
// whether a datagram is lost and when it leaves; one goroutine, woken by
// a timer, delivers the queue in order when each datagram falls due.
// Due times never decrease, so a FIFO is the whole schedule.
type pipe struct {
	mu    sync.Mutex
	link  Link
	rng   *rand.Rand
	tat   time.Time // the token bucket as GCRA: when the bucket is next empty
	last  time.Time // due time of the newest queued datagram
	queue []packet
	c     Counters

	wake    chan struct{} // the queue was empty and is not
	done    chan struct{}
	stopped chan struct{}
}

func newPipe(rng *rand.Rand) *pipe {
	p := &pipe{rng: rng, wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go p.run()
	return p
}

func (p *pipe) set(l Link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.link = l
}

func (p *pipe) counters() Counters {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c
}

// push offers a datagram to the link; to delivers it if it gets through.
// The pipe keeps data.
func (p *pipe) push(data []byte, to func([]byte)) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c.Offered++
	if p.link.Loss > 0 && p.rng.Float64() < p.link.Loss {
		p.c.DroppedLoss++
		return
	}
	depart, ok := p.admit(now, len(data))
	if !ok {
		p.c.DroppedQueue++
		return
	}
	due := depart.Add(p.link.Delay)
	if due.Before(p.last) {
		due = p.last
	}
	p.last = due
	p.queue = append(p.queue, packet{data: data, due: due, to: to})
	if len(p.queue) == 1 {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// admit is the token bucket: when a datagram of size bytes arriving at now
// may leave, or false if it would wait longer than the queue allows. As
// GCRA: it may leave once the bucket's theoretical arrival time, less the
// burst, has passed.
func (p *pipe) admit(now time.Time, size int) (time.Time, bool) {
	rate := p.link.Rate
	if rate <= 0 {
		return now, true
	}
	burst := time.Duration(max(rate/8/50, minBurst) * 8 * int64(time.Second) / rate)
	depart := now
	if t := p.tat.Add(-burst); t.After(now) {
		depart = t
	}
	queue := p.link.QueueDelay
	if queue <= 0 {
		queue = DefaultQueueDelay
	}
	if depart.Sub(now) > queue {
		return time.Time{}, false
	}
	if p.tat.Before(depart) {
		p.tat = depart
	}
	p.tat = p.tat.Add(time.Duration(int64(size) * 8 * int64(time.Second) / rate))
	return depart, true
}

// run delivers what falls due until close.
func (p *pipe) run() {
	defer close(p.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch, wait, pending := p.takeDue(time.Now())
		for _, pk := range batch {
			pk.to(pk.data)
		}
		if len(batch) > 0 {
			continue // more may have fallen due meanwhile
		}
		if pending {
			timer.Reset(wait)
		}
		select {
		case <-p.wake:
		case <-timer.C:
		case <-p.done:
			timer.Stop()
			return
		}
	}
}

// takeDue removes the datagrams due at now, and says how long until the
// next one, if any is queued.
func (p *pipe) takeDue(now time.Time) (batch []packet, wait time.Duration, pending bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(p.queue) && !p.queue[n].due.After(now) {
		p.c.Forwarded++
		p.c.Bytes += uint64(len(p.queue[n].data))
		n++
	}
	batch, p.queue = p.queue[:n:n], p.queue[n:]
	if len(p.queue) == 0 {
		return batch, 0, false
	}
	return batch, p.queue[0].due.Sub(now), true
}

// close stops the pipe; what is still queued is dropped.
func (p *pipe) close() {
	close(p.done)
	<-p.stopped
}
