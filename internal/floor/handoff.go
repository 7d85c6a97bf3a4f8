package floor

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// HandOff measures how long one CPU takes to see a write another made: two
// threads, pinned to CPUs a and b, pass a counter back and forth n times,
// and the time per pass is returned (the best of rounds, as other work on
// either CPU only lengthens a round).
//
// It tells where a virtual machine's two CPUs are. On the 2-vCPU machines
// the floor is measured on, they are sometimes the two hyperthreads of one
// physical core (a pass takes about 30 ns) and sometimes two cores (about
// 160 ns), and the host moves them between the two, sometimes within a
// minute. The floor moves with them: its sender and receiver share a
// core's caches as hyperthreads (mostly 4.0–4.2 µs a packet, against
// 4.8–5.0 on two cores, in the sitting docs/performance.md reports), so
// scripts/perf.sh records the placement beside each run.
func HandOff(a, b, n, rounds int) (time.Duration, error) {
	if runtime.GOMAXPROCS(0) < 2 {
		return 0, errors.New("floor: hand-off needs GOMAXPROCS ≥ 2")
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

// handOff is one round of n passes each way. Its threads are pinned for
// the round: b's exits with it, a's gets its CPUs back.
func handOff(a, b, n int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if a >= 0 {
		var was unix.CPUSet
		if err := unix.SchedGetaffinity(0, &was); err != nil {
			return 0, fmt.Errorf("floor: CPUs of this thread: %w", err)
		}
		defer func() { _ = unix.SchedSetaffinity(0, &was) }()
		if err := Pin(a); err != nil {
			return 0, err
		}
	}
	var turn atomic.Int64 // odd: b's turn; even: a's
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if b >= 0 {
			if err := Pin(b); err != nil {
				ready <- err
				return
			}
		}
		ready <- nil
		for i := int64(1); i <= int64(n); i++ {
			for turn.Load() != 2*i-1 {
			}
			turn.Store(2 * i)
		}
	}()
	if err := <-ready; err != nil {
		return 0, err
	}
	start := time.Now()
	for i := int64(1); i <= int64(n); i++ {
		turn.Store(2*i - 1)
		for turn.Load() != 2*i {
		}
	}
	return time.Since(start) / time.Duration(2*n), nil
}
