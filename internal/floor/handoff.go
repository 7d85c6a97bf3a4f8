package floor

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// HandOff measures how long one CPU takes to see a write another made: two
// threads, pinned to CPUs a and b, pass a counter back and forth n times,
// and the time per pass is returned (the best of rounds, as other work on
// either CPU only lengthens a round).
//
// It tells where a virtual machine's two CPUs are. On the 2-vCPU machines
// the floor is measured on, the host puts them sometimes on the two
// hyperthreads of one physical core and sometimes on two cores, and moves
// them; a pass takes several times longer across cores, and the floor
// moves with the placement (docs/performance.md has the figures), so
// scripts/perf.sh records it beside each run.
func HandOff(a, b, n, rounds int) (time.Duration, error) {
	switch {
	case runtime.GOMAXPROCS(0) < 2:
		return 0, errors.New("floor: hand-off needs GOMAXPROCS ≥ 2")
	case a >= 0 && a == b:
		return 0, fmt.Errorf("floor: hand-off between CPU %d and itself", a)
	case n < 1 || rounds < 1:
		return 0, fmt.Errorf("floor: hand-off of %d passes, %d rounds: want at least one of each", n, rounds)
	}
	best := time.Duration(-1)
	for range rounds {
		d, err := handOff(a, b, n)
		if err != nil {
			return 0, err
		}
		if best < 0 || d < best {
			best = d
		}
	}
	return best, nil
}

// handOff is one round of n passes each way. Each side runs on a thread of
// its own, pinned, that ends with it: no pinned thread goes back to the
// runtime.
func handOff(a, b, n int) (time.Duration, error) {
	var turn atomic.Int64 // odd: b's turn; even: a's
	ready, start := make(chan error, 2), make(chan bool, 2)
	took := make(chan time.Duration, 1)
	side := func(cpu int, run func()) {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if cpu >= 0 {
			if err := Pin(cpu); err != nil {
				ready <- err
				return
			}
		}
		ready <- nil
		if <-start { // false: the other side could not be pinned
			run()
		}
	}
	go side(b, func() {
		for i := int64(1); i <= int64(n); i++ {
			for turn.Load() != 2*i-1 {
			}
			turn.Store(2 * i)
		}
	})
	go side(a, func() {
		t0 := time.Now()
		for i := int64(1); i <= int64(n); i++ {
			turn.Store(2*i - 1)
			for turn.Load() != 2*i {
			}
		}
		took <- time.Since(t0)
	})
	var err error
	for range 2 {
		if e := <-ready; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		close(start)
		return 0, err
	}
	start <- true
	start <- true
	return <-took / time.Duration(2*n), nil
}
