package main

import (
	"strings"
	"testing"
)

// The tests of what every command shares: the choice of the command, and DATABASE_URL.

func TestUnknownCommandFails(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	mustFail(t, []string{"frobnicate"}, "unknown command", "frobnicate")
	mustFail(t, []string{"serve", "--bogus"}, "bogus")
}

func TestUnknownDatabaseSchemeFailsWithoutShowingThePassword(t *testing.T) {
	const password = "Sup3rS3cretPw"
	for _, url := range []string{
		"mysql://root:" + password + "@db.example:3306/taskql",
		"mysql://root:" + password + "@db@example:3306/taskql",
		"mongodb+srv://root:" + password + "@cluster.example/taskql",
	} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			t.Setenv("DATABASE_URL", url)
			for _, args := range [][]string{
				{"migrate"},
				{"seed", "--demo"},
				{"token", "create", "--user", "usr_ada"},
				{"serve", "--addr", "127.0.0.1:0"},
			} {
				err := mustFail(t, args, "DATABASE_URL", "postgres://", "sqlite:")
				if strings.Contains(err.Error(), password) {
					t.Errorf("run %q: the error shows the password: %v", args, err)
				}
			}
		})
	}
}

// A DATABASE_URL set to another driver's connection string, without a scheme, is a likely
// mistake; its password must not reach the error (and so the terminal or a log) either.
func TestDatabaseConnectionStringWithoutSchemeFailsWithoutShowingThePassword(t *testing.T) {
	const password = "Sup3rS3cretPw"
	for name, dsn := range map[string]string{
		"mysql dsn":          "root:" + password + "@tcp(db.example:3306)/taskql",
		"postgres key=value": "host=db.example user=taskql password=" + password + " dbname=taskql",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", dsn)
			err := mustFail(t, []string{"migrate"}, "DATABASE_URL")
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestBadPostgresURLFailsWithoutShowingThePassword(t *testing.T) {
	const password = "Sup3rS3cretPw"
	for name, url := range map[string]string{
		// Port 1 on the loopback refuses at once.
		"unreachable": "postgres://taskql:" + password + "@127.0.0.1:1/taskql?connect_timeout=2",
		"bad port":    "postgres://taskql:" + password + "@127.0.0.1:port/taskql",
		"bad option":  "postgresql://taskql:" + password + "@127.0.0.1:1/taskql?sslmode=sometimes",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", url)
			err := mustFail(t, []string{"migrate"})
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
