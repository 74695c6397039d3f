package main

// The report: a Markdown table on stdout, and the same as JSON with --json.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// result is one row of the report.
type result struct {
	ID      string         `json:"finding"`
	Request string         `json:"request"`
	Status  string         `json:"status"`
	CPU     *float64       `json:"server_cpu_s,omitempty"`
	PeakRSS *float64       `json:"peak_rss_mb,omitempty"`
	Wall    *float64       `json:"wall_s,omitempty"`
	NextOK  string         `json:"next_request_ok,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	Extra   map[string]any `json:"extra,omitempty"`
}

// report is the whole run: what was measured, how, and a row per finding.
type report struct {
	Started    time.Time `json:"started"`
	Bin        string    `json:"bin"`
	BinSHA256  string    `json:"bin_sha256"`
	DB         string    `json:"db"`
	ServerArgs []string  `json:"server_args"`
	Timeout    string    `json:"timeout"`
	RSSLimitMB int       `json:"rss_limit_mb"`
	CPUs       int       `json:"cpus"`
	Results    []result  `json:"results"`
}

func (h *harness) report(started time.Time, results []result) report {
	return report{
		Started:    started.UTC().Truncate(time.Second),
		Bin:        h.cfg.bin,
		BinSHA256:  fileSHA256(h.cfg.bin),
		DB:         h.cfg.db,
		ServerArgs: append([]string{}, h.cfg.serverArgs...),
		Timeout:    h.cfg.timeout.String(),
		RSSLimitMB: h.cfg.rssLimitMB,
		CPUs:       runtime.NumCPU(),
		Results:    results,
	}
}

func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return ""
	}
	return hex.EncodeToString(sum.Sum(nil))
}

func writeMarkdown(w io.Writer, rep report) {
	fmt.Fprintf(w, "# taskql hostile requests: %s\n\n", rep.DB)
	sha := rep.BinSHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	args := "none"
	if len(rep.ServerArgs) > 0 {
		args = "`" + strings.Join(rep.ServerArgs, " ") + "`"
	}
	fmt.Fprintf(w, "Binary `%s` (sha256 %s), database %s, server args %s, timeout %s per hostile request, "+
		"RSS limit %d MB, %d CPUs, started %s. The server is restarted before each finding; server CPU is "+
		"utime+stime of its process, peak RSS its VmHWM after a reset.\n\n",
		rep.Bin, sha, rep.DB, args, rep.Timeout, rep.RSSLimitMB, rep.CPUs, rep.Started.Format(time.RFC3339))
	fmt.Fprintln(w, "| finding | request | status/code | server CPU s | peak RSS MB | wall s | next request OK | notes |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---|---|")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.ID, cell(r.Request), cell(r.Status), num(r.CPU, 2), num(r.PeakRSS, 0), num(r.Wall, 3),
			cell(r.NextOK), cell(strings.Join(r.Notes, "; ")))
	}
}

func num(p *float64, prec int) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, *p)
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string {
	if s == "" {
		return "–"
	}
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ")
	return r.Replace(s)
}

func writeJSONFile(path string, rep report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
