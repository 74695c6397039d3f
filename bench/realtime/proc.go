package main

// What the processes cost, read from /proc: CPU (utime+stime) of the servers and of this tool,
// the servers' VmRSS, the whole machine's busy share, and its load average.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTicks is sysconf(_SC_CLK_TCK): the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

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

// statusKB is a "kB" line of /proc/PID/status (VmRSS, VmHWM, …), or -1.
func statusKB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return -1
}

// rssKB is the process's resident set now (VmRSS), or -1.
func rssKB(pid int) int64 { return statusKB(pid, "VmRSS") }

// machineJiffies are the busy and total jiffies of all CPUs (the first line of /proc/stat).
func machineJiffies() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest and guest_nice are already counted in user and nice
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// postgresTicks is the CPU of each process named postgres, in clock ticks, by process id: all of
// them (the shared server's, other databases' backends included), and the backends of database
// db, whose process title ("postgres: user db host state") names it.
func postgresTicks(db string) (all, ours map[int]int64) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, nil
	}
	all, ours = map[int]int64{}, map[int]int64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		t, err := readTicks(pid)
		if err != nil {
			continue
		}
		all[pid] = t
		if title, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
			db != "" && strings.Contains(string(title), " "+db+" ") {
			ours[pid] = t
		}
	}
	return all, ours
}

// postgresSince is the CPU PostgreSQL's processes spent between two readings: of those that
// lived through both, the difference; of those started since, all. Those that exited meanwhile
// are not counted (their last ticks are unknown).
func postgresSince(t0, t1 map[int]int64) int64 {
	var sum int64
	for pid, t := range t1 {
		if before, ok := t0[pid]; ok && before <= t {
			sum += t - before
		} else if !ok {
			sum += t
		}
	}
	return sum
}

// mark is a moment's CPU counters: the two servers', this tool's, PostgreSQL's and the
// machine's.
type mark struct {
	at            time.Time
	a, b, self    int64
	pg, pgOurs    map[int]int64
	busy, jiffies int64
	aErr, bErr    error
	selfErr       error
}

// mark reads the counters now.
func (e *env) mark() mark {
	m := mark{at: time.Now()}
	m.a, m.aErr = readTicks(e.a.pid)
	m.b, m.bErr = readTicks(e.b.pid)
	m.self, m.selfErr = readTicks(os.Getpid())
	m.pg, m.pgOurs = postgresTicks(e.db.name)
	m.busy, m.jiffies = machineJiffies()
	return m
}

// usage is the CPU spent between two marks.
type usage struct {
	wall               time.Duration
	a, b, client, pg   float64 // CPU seconds
	pgOurs             float64 // CPU seconds of the backends of this run's database
	machineBusy        float64 // CPU seconds of all CPUs busy, whoever used them
	cpus               int
	machineOK, readsOK bool
}

func since(m0 mark, m1 mark) usage {
	u := usage{wall: m1.at.Sub(m0.at), cpus: runtime.NumCPU()}
	u.readsOK = m0.aErr == nil && m1.aErr == nil && m0.bErr == nil && m1.bErr == nil && m0.selfErr == nil && m1.selfErr == nil
	u.a = float64(m1.a-m0.a) / clockTicks
	u.b = float64(m1.b-m0.b) / clockTicks
	u.client = float64(m1.self-m0.self) / clockTicks
	u.pg = float64(postgresSince(m0.pg, m1.pg)) / clockTicks
	u.pgOurs = float64(postgresSince(m0.pgOurs, m1.pgOurs)) / clockTicks
	if m0.jiffies > 0 && m1.jiffies > m0.jiffies {
		u.machineOK = true
		busy := float64(m1.busy-m0.busy) / float64(m1.jiffies-m0.jiffies) // share of all CPUs
		u.machineBusy = busy * u.wall.Seconds() * float64(u.cpus)
	}
	return u
}

// others is the CPU the machine spent on anything but the servers, this tool and PostgreSQL:
// the other tenants of a shared machine.
func (u usage) others() float64 { return max(0, u.machineBusy-u.a-u.b-u.client-u.pg) }

// share is CPU seconds over the wall time, as a share of all the machine's CPUs.
func (u usage) share(cpuSeconds float64) float64 {
	if u.wall <= 0 || u.cpus == 0 {
		return 0
	}
	return cpuSeconds / u.wall.Seconds() / float64(u.cpus)
}

// String is the usage as a report states it.
func (u usage) String() string {
	if !u.readsOK {
		return "CPU not readable"
	}
	s := fmt.Sprintf("wall %.2f s; CPU s (share of the %d cores): server A %.2f (%.0f %%), server B %.2f (%.0f %%), "+
		"this tool %.2f (%.0f %%), PostgreSQL %.2f (%.0f %%; of which this run's database's backends %.2f)",
		u.wall.Seconds(), u.cpus, u.a, 100*u.share(u.a), u.b, 100*u.share(u.b), u.client, 100*u.share(u.client),
		u.pg, 100*u.share(u.pg), u.pgOurs)
	if u.machineOK {
		s += fmt.Sprintf("; whole machine busy %.0f %%, of which others %.2f s (%.0f %%)",
			100*u.share(u.machineBusy), u.others(), 100*u.share(u.others()))
	}
	return s
}
