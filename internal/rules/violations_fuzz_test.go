package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// FuzzViolations holds violations to DESIGN §3 on any scenario the fuzzer makes up: one Violation
// for each offending candidate and none for the others, whose reason is the first of rules 1, 2, 3
// the candidate breaks, sorted by user id. The oracle decides the same thing another way: one
// pass per rule, in the order of DESIGN, each over the candidates the earlier passes left.
//
// Candidates are unique, as every caller passes them (AssignUsers de-duplicates with unique,
// SetTaskAssignee passes one id, UnassignUser none). Repeats are not violations' contract: it
// reports a repeated offending candidate once per occurrence.
//
// A scenario is decoded from bytes: the first byte's low bit says whether the task's phase is
// internal, and each further byte names one of candidatePool by its low four bits (modulo its
// length) with its facts in the others (bit 4: exists in the organization, 5: member of the
// project, 6: of the agency company, 7: known to the store without being a candidate, as the
// facts of UnassignUser's user are). A byte naming an id already named is skipped.
//
//	go test -run '^$' -fuzz '^FuzzViolations$' -fuzztime 20s ./internal/rules
func FuzzViolations(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{1},
		{0, 0x00, 0x11, 0x32, 0x73},
		{1, 0x00, 0x11, 0x32, 0x73, 0x34},
		{1, 0x7b, 0x7a, 0x79, 0x78, 0x77, 0x76, 0x75, 0x74, 0x73, 0x72, 0x71, 0x70},
		{1, 0x1b, 0x3a, 0x59, 0x78, 0x97, 0xb6, 0xd5, 0xf4, 0x03, 0x02, 0x01, 0x00},
		{0, 0xff, 0x0f, 0x3e, 0x3e, 0x10},
		{1, 0x35, 0x35, 0x25, 0x15},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, scenario []byte) {
		internal, candidates, known := decodeScenario(scenario)
		got := violations(internal, slices.Clone(candidates), known)
		want := oracleViolations(internal, candidates, known)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("violations(internal=%v, %v, %s) mismatch (-want +got):\n%s", internal, candidates, describe(known), diff)
		}
		if !slices.IsSortedFunc(got, func(a, b Violation) int { return strings.Compare(string(a.UserID), string(b.UserID)) }) {
			t.Errorf("violations are not sorted by user id: %v", got)
		}
		for i := 1; i < len(got); i++ {
			if got[i].UserID == got[i-1].UserID {
				t.Errorf("%s is reported twice: %v", got[i].UserID, got)
			}
		}
	})
}

// candidatePool are the ids a scenario picks from, listed out of their sorted order (byte order:
// digits, then upper case, then lower case; a prefix before its extensions).
var candidatePool = []model.UserID{"usr_bob", "usr_Bob", "usr_ada", "usr_a", "usr_9", "usr_10", "usr_z",
	"usr_Z", "usr_ab", "usr_aB", "usr_bo", "usr_0"}

// decodeScenario turns the fuzzer's bytes into the arguments of violations (see FuzzViolations).
func decodeScenario(b []byte) (internal bool, candidates []model.UserID, known map[model.UserID]store.CandidateFacts) {
	known = map[model.UserID]store.CandidateFacts{}
	if len(b) == 0 {
		return false, nil, known
	}
	internal = b[0]&1 == 1
	named := map[model.UserID]bool{}
	for _, c := range b[1:] {
		id := candidatePool[int(c&0x0f)%len(candidatePool)]
		if named[id] {
			continue
		}
		named[id] = true
		exists, member, agency, bystander := c&0x10 != 0, c&0x20 != 0, c&0x40 != 0, c&0x80 != 0
		if exists || bystander {
			known[id] = store.CandidateFacts{User: &model.User{ID: id}, ProjectMember: member, Agency: agency}
		}
		if !bystander {
			candidates = append(candidates, id)
		}
	}
	return internal, candidates, known
}

// oracleViolations is DESIGN §3 read literally: rule 1 over every candidate, then rule 2 over
// those rule 1 let through, then rule 3 (internal phases only) over those rule 2 let through;
// the offenders sorted.
func oracleViolations(internal bool, candidates []model.UserID, known map[model.UserID]store.CandidateFacts) []Violation {
	reason := map[model.UserID]Reason{}
	for _, id := range candidates {
		if _, ok := known[id]; !ok {
			reason[id] = ReasonUserNotFound
		}
	}
	for _, id := range candidates {
		if _, done := reason[id]; !done && !known[id].ProjectMember {
			reason[id] = ReasonNotProjectMember
		}
	}
	if internal {
		for _, id := range candidates {
			if _, done := reason[id]; !done && !known[id].Agency {
				reason[id] = ReasonNotAgencyMember
			}
		}
	}
	var offenders []string
	for id := range reason {
		offenders = append(offenders, string(id))
	}
	slices.Sort(offenders)
	var vs []Violation
	for _, id := range offenders {
		vs = append(vs, Violation{UserID: model.UserID(id), Reason: reason[model.UserID(id)]})
	}
	return vs
}

// describe lists the facts of a scenario in a stable order, for failure messages.
func describe(known map[model.UserID]store.CandidateFacts) string {
	var lines []string
	for id, f := range known {
		lines = append(lines, fmt.Sprintf("%s{member:%v agency:%v}", id, f.ProjectMember, f.Agency))
	}
	slices.Sort(lines)
	return "known [" + strings.Join(lines, " ") + "]"
}
