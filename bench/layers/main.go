// Command layers sums a CPU profile by layer of the server (docs/PERFORMANCE.md): the GraphQL
// executor, GORM, the PostgreSQL driver, the garbage collector, taskql's own packages, and so on.
// It reads the output of `go tool pprof -traces BINARY PROFILE` on its standard input and gives
// each sample to the first frame, from the leaf up, that belongs to a known layer, so that an
// allocation or a system call counts for the layer that asked for it.
//
//	go tool pprof -traces server page.cpu.pprof | go run ./bench/layers
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// layers maps a frame's package prefix to its layer, most specific first.
var layers = []struct{ prefix, name string }{
	{"github.com/taskql/taskql/internal/store", "taskql store"},
	{"github.com/taskql/taskql/internal/rules", "taskql rules"},
	{"github.com/taskql/taskql/internal/auth", "taskql auth"},
	{"github.com/taskql/taskql/graph.", "gqlgen generated code and resolvers (graph)"},
	{"gorm.io/", "GORM"},
	{"github.com/jackc/pgx", "pgx (PostgreSQL protocol and its socket I/O)"},
	{"github.com/glebarez/", "SQLite driver"},
	{"modernc.org/", "SQLite driver"},
	{"database/sql", "database/sql"},
	{"github.com/vikstrous/dataloadgen", "dataloadgen"},
	{"github.com/99designs/gqlgen", "gqlgen runtime (executor, field contexts, marshalling)"},
	{"github.com/vektah/gqlparser", "gqlparser"},
	{"encoding/json", "encoding/json"},
	{"net/http", "net/http (and its socket I/O)"},
}

func layerOf(frames []string) string {
	for _, f := range frames {
		if strings.Contains(f, "runtime.gcBgMarkWorker") {
			return "Go GC, background marking"
		}
	}
	for _, f := range frames {
		for _, l := range layers {
			if strings.HasPrefix(f, l.prefix) {
				return l.name
			}
		}
	}
	return "Go runtime: scheduler, other"
}

func main() {
	total := map[string]float64{}
	alloc := map[string]float64{}
	var sum float64
	flush := func(ms float64, frames []string) {
		if len(frames) == 0 {
			return
		}
		l := layerOf(frames)
		total[l] += ms
		sum += ms
		for _, f := range frames {
			if strings.HasPrefix(f, "runtime.mallocgc") || strings.HasPrefix(f, "runtime.gcAssistAlloc") {
				alloc[l] += ms
				break
			}
		}
	}
	var ms float64
	var frames []string
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "-----------+"):
			flush(ms, frames)
			ms, frames = 0, nil
		case line == "":
		case frames == nil && ms == 0 && startsWithDuration(line):
			fields := strings.Fields(line)
			ms = duration(fields[0])
			frames = append(frames, fields[1])
		case ms > 0:
			frames = append(frames, line)
		}
	}
	flush(ms, frames)
	names := make([]string, 0, len(total))
	for n := range total {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return total[names[i]] > total[names[j]] })
	fmt.Printf("%-58s %8s %6s %14s\n", "layer", "CPU ms", "share", "of it: malloc")
	for _, n := range names {
		fmt.Printf("%-58s %8.0f %5.1f%% %14.0f\n", n, total[n], 100*total[n]/sum, alloc[n])
	}
	fmt.Printf("%-58s %8.0f\n", "total", sum)
}

func startsWithDuration(s string) bool {
	f := strings.Fields(s)
	return len(f) >= 2 && duration(f[0]) > 0
}

// duration parses pprof's "10ms" or "1.20s" into milliseconds, or 0.
func duration(s string) float64 {
	unit := 1.0
	switch {
	case strings.HasSuffix(s, "ms"):
		s = strings.TrimSuffix(s, "ms")
	case strings.HasSuffix(s, "s"):
		s, unit = strings.TrimSuffix(s, "s"), 1000
	default:
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v * unit
}
