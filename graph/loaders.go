package graph

import (
	"context"
	"errors"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// loaders batch the reads of one request: every field that would otherwise query once per parent
// (a task's project, phase, assignees, ...) waits a moment and reads all its keys in one query.
type loaders struct {
	tasks         *dataloadgen.Loader[model.TaskID, *model.Task]
	users         *dataloadgen.Loader[model.UserID, *model.User]
	projects      *dataloadgen.Loader[model.ProjectID, *model.Project]
	phases        *dataloadgen.Loader[model.PhaseID, *model.Phase]
	organizations *dataloadgen.Loader[model.OrganizationID, *model.Organization]
	companies     *dataloadgen.Loader[model.CompanyID, *model.Company]
	events        *dataloadgen.Loader[model.EventID, *model.Event]
	assignees     *dataloadgen.Loader[model.TaskID, []*model.User]
	taskData      *dataloadgen.Loader[model.TaskID, []*model.TaskData]
	phasesOf      *dataloadgen.Loader[model.ProjectID, []*model.Phase]
}

// loaderWait is how long a loader gathers keys before it reads them.
const loaderWait = time.Millisecond

// batch adapts a batch read of the rules to a loader's fetch, for the request's viewer.
func batch[K comparable, V any](read func(context.Context, *rules.Viewer, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		return read(ctx, auth.ViewerFrom(ctx), keys)
	}
}

func newLoaders(r *rules.Service) *loaders {
	w := dataloadgen.WithWait(loaderWait)
	return &loaders{
		tasks:         dataloadgen.NewMappedLoader(batch(r.TasksByID), w),
		users:         dataloadgen.NewMappedLoader(batch(r.UsersByID), w),
		projects:      dataloadgen.NewMappedLoader(batch(r.ProjectsByID), w),
		phases:        dataloadgen.NewMappedLoader(batch(r.PhasesByID), w),
		organizations: dataloadgen.NewMappedLoader(batch(r.OrganizationsByID), w),
		companies:     dataloadgen.NewMappedLoader(batch(r.CompaniesByID), w),
		events:        dataloadgen.NewMappedLoader(batch(r.EventsByID), w),
		assignees:     dataloadgen.NewMappedLoader(batch(r.AssigneesOf), w),
		taskData:      dataloadgen.NewMappedLoader(batch(r.TaskDataOf), w),
		phasesOf:      dataloadgen.NewMappedLoader(batch(r.PhasesOfProjects), w),
	}
}

type loadersKey struct{}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders { return ctx.Value(loadersKey{}).(*loaders) }

// one loads an object that must exist for the viewer, since its parent is visible.
func one[K ~string, V any](ctx context.Context, l *dataloadgen.Loader[K, *V], key K) (*V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, rules.ErrNotFound
	}
	return v, err
}

// optionalOne loads an object by an optional key; none is nil.
func optionalOne[K ~string, V any](ctx context.Context, l *dataloadgen.Loader[K, *V], key *K) (*V, error) {
	if key == nil {
		return nil, nil
	}
	return one(ctx, l, *key)
}

// many loads a list; a key with no rows has an empty list.
func many[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, []*V], key K) ([]*V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return []*V{}, nil
	}
	return v, err
}

// forgetTask drops what the loaders remember of a task that a mutation changed, so that the
// mutation's result, and any later one in the same document, reads it afresh.
func forgetTask(ctx context.Context, t *model.Task) {
	l := loadersFrom(ctx)
	l.assignees.Clear(t.ID)
	l.tasks.Clear(t.ID)
	l.tasks.Prime(t.ID, t)
}

// changed returns a function that passes a mutation's result through, first making the loaders
// forget the task it changed.
func changed(ctx context.Context) func(*model.Task, error) (*model.Task, error) {
	return func(t *model.Task, err error) (*model.Task, error) {
		if t != nil {
			forgetTask(ctx, t)
		}
		return t, err
	}
}
