package main

// The files run.sh uses: the ids the wrk script picks from, and the scale as shell variables.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeFiles writes page.txt, task.txt, assign.txt and env.sh into dir (see the command's doc).
func writeFiles(dir string, w *world, sc scale) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var page, task, assign, env strings.Builder
	for p := 1; p <= sc.Projects; p++ {
		fmt.Fprintf(&page, "%s %s\n", projectID(p), w.orgToken[orgOf(p, sc.Orgs)-1])
	}
	for t := 1; t <= sc.Tasks; t++ {
		fmt.Fprintf(&task, "%s %s\n", taskID(t), w.orgToken[orgOf(projectOf(t, sc.Projects), sc.Orgs)-1])
	}
	for _, p := range w.pairs {
		var t int
		fmt.Sscanf(p[0], "tsk_%d", &t)
		fmt.Fprintf(&assign, "%s %s %s\n", p[0], p[1], w.orgToken[orgOf(projectOf(t, sc.Projects), sc.Orgs)-1])
	}
	fmt.Fprintf(&env, "ORGS=%d\nPROJECTS=%d\nTASKS=%d\nPAIRS=%d\nASSIGNEES=%d\n", sc.Orgs, sc.Projects, sc.Tasks, len(w.pairs), len(w.assignees))
	for name, b := range map[string]*strings.Builder{"page.txt": &page, "task.txt": &task, "assign.txt": &assign, "env.sh": &env} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gen: %d projects, %d tasks, %d assignees, %d pairs; id files in %s\n",
		sc.Projects, sc.Tasks, len(w.assignees), len(w.pairs), dir)
	return nil
}
