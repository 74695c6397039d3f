package main

// PostgreSQL: psql on the shared server, and F11's private cluster (initdb and pg_ctl, run as the
// postgres OS user), which is stopped and removed at the end.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// psql runs one SQL string with psql on the shared PostgreSQL server, as user postgres.
func psql(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", pgHost, "-p", pgPort, "-U", "postgres", "-d", db, "-c", sql)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// cluster is a private PostgreSQL cluster (F11), owned by the postgres OS user, in a temp dir.
type cluster struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // temp dir: socket, log, and data/
	data string
	port int
}

// newCluster initdb's a private cluster and starts it on 127.0.0.1:port.
func newCluster(ctx context.Context, bin string, port int) (*cluster, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if ln, err := net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("private cluster port %d is busy: %w", port, err)
	} else {
		ln.Close()
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "taskql-f11-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: port}
	if err := os.Chown(dir, uid, gid); err != nil {
		c.remove()
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ictx, "runuser", "-u", "postgres", "--",
		filepath.Join(bin, "initdb"), "-D", c.data, "-A", "trust", "-U", "postgres").CombinedOutput()
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("initdb: %v: %s", err, tailString(string(out), 400))
	}
	if err := c.start(ctx); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

func (c *cluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres", c.port)
}

func (c *cluster) pgctl(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	full := append([]string{"-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", c.data}, args...)
	out, err := exec.CommandContext(ctx, "runuser", full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", args[len(args)-1], err, tailString(string(out), 400))
	}
	return nil
}

func (c *cluster) start(ctx context.Context) error {
	return c.pgctl(ctx, "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir), "start")
}

func (c *cluster) stop(ctx context.Context, mode string) error {
	return c.pgctl(ctx, "-m", mode, "-w", "-t", "60", "stop")
}

func (c *cluster) running() bool {
	_, err := os.Stat(filepath.Join(c.data, "postmaster.pid"))
	return err == nil
}

// remove stops the cluster if it runs and deletes its directory. It does not depend on the
// caller's context, so that it also runs after a Ctrl-C.
func (c *cluster) remove() {
	ctx := context.Background()
	if c.running() {
		if err := c.stop(ctx, "fast"); err != nil {
			logf("F11: stopping the private cluster: %v; trying -m immediate", err)
			_ = c.stop(ctx, "immediate")
		}
	}
	if c.running() {
		logf("F11: the private cluster in %s still runs; not removing it", c.dir)
		return
	}
	_ = os.RemoveAll(c.dir)
}
