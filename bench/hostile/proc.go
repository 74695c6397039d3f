package main

// What the server process costs, read from /proc: CPU (utime+stime), RSS and its peak, and the
// kill at the RSS limit.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is sysconf(_SC_CLK_TCK): the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

// meter measures one finding on one server process: CPU (utime+stime) since it started, the peak
// RSS (VmHWM after a reset through clear_refs, and VmRSS sampled every 20 ms), and it kills the
// process when its RSS passes the limit.
type meter struct {
	srv       *server
	limitKB   int64
	cpu0      int64
	peakReset bool

	mu        sync.Mutex
	lastTicks int64
	lastHWM   int64 // kB
	maxRSS    int64 // kB, sampled
	killedKB  int64

	stopc chan struct{}
	done  chan struct{}
}

func startMeter(srv *server, limitMB int) (*meter, error) {
	m := &meter{srv: srv, limitKB: int64(limitMB) * 1024, stopc: make(chan struct{}), done: make(chan struct{})}
	m.peakReset = resetPeak(srv.pid) == nil
	t, err := readTicks(srv.pid)
	if err != nil {
		return nil, err
	}
	m.cpu0, m.lastTicks = t, t
	go m.watch()
	return m, nil
}

func (m *meter) watch() {
	defer close(m.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if rss, ok := m.sample(); ok && m.limitKB > 0 && rss > m.limitKB {
			m.mu.Lock()
			m.killedKB = rss
			m.mu.Unlock()
			m.srv.kill()
			return
		}
		select {
		case <-m.stopc:
			return
		case <-m.srv.exited:
			return
		case <-tick.C:
		}
	}
}

// sample reads the process's CPU and memory once; it keeps the last values read, so that figures
// survive the process's death.
func (m *meter) sample() (rssKB int64, ok bool) {
	t, errT := readTicks(m.srv.pid)
	rss, hwm, errM := readMem(m.srv.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	if errT == nil {
		m.lastTicks = t
	}
	if errM != nil {
		return 0, false
	}
	m.lastHWM = hwm
	m.maxRSS = max(m.maxRSS, rss)
	return rss, true
}

func (m *meter) close() {
	close(m.stopc)
	<-m.done
}

// cpuSeconds is the server's CPU time since the meter started.
func (m *meter) cpuSeconds() float64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return float64(m.lastTicks-m.cpu0) / clockTicks
}

// peakMB is the server's peak RSS since the meter started (MiB).
func (m *meter) peakMB() float64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	peak := m.maxRSS
	if m.peakReset {
		peak = max(peak, m.lastHWM)
	}
	return float64(peak) / 1024
}

// rssMB is the server's RSS now (MiB), or -1 when it cannot be read.
func (m *meter) rssMB() float64 {
	rss, _, err := readMem(m.srv.pid)
	if err != nil {
		return -1
	}
	return float64(rss) / 1024
}

func (m *meter) killedAtMB() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.killedKB / 1024
}

// readTicks is utime+stime of the process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
func readTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime in /proc/PID/stat")
	}
	return ut + st, nil
}

// readMem is VmRSS and VmHWM of the process, in kB.
func readMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	var haveRSS bool
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss, haveRSS = n, true
		} else {
			hwm = n
		}
	}
	if !haveRSS {
		return 0, 0, errors.New("no VmRSS (process gone?)")
	}
	return rss, hwm, nil
}

// resetPeak resets the process's VmHWM to its current RSS.
func resetPeak(pid int) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/clear_refs", pid), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte("5"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
