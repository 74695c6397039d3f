package graph

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// loaders batch the reads of one request: every field that would otherwise query once per parent
// (a task's project, a user's company, ...) waits a moment and reads all its keys in one query.
type loaders struct {
	users         *dataloadgen.Loader[model.UserID, *model.User]
	projects      *dataloadgen.Loader[model.ProjectID, *model.Project]
	organizations *dataloadgen.Loader[model.OrganizationID, *model.Organization]
	companies     *dataloadgen.Loader[model.CompanyID, *model.Company]
	events        *dataloadgen.Loader[model.EventID, *model.Event]
	taskData      *dataloadgen.Loader[model.TaskID, []*model.TaskData]
	phasesOf      *dataloadgen.Loader[model.ProjectID, []*model.Phase]
	// openAssigned is each user's open assigned count, primed by the page of a task's assignable
	// users, which reads it in its own statement.
	openAssigned *dataloadgen.Loader[model.UserID, int]
}

// loaderWait is how long a loader gathers keys before it reads them (BenchmarkLoaderWait measures
// the choice; a variable only for that benchmark).
var loaderWait = 500 * time.Microsecond

// batch adapts a batch read of the rules to a loader's fetch, for the request's viewer, traced as
// one span per batch (DESIGN §8: a span for each resolver batch).
func batch[K comparable, V any](name string, read func(context.Context, *model.Viewer, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		ctx, span := tracer.Start(ctx, "loader "+name, trace.WithAttributes(attribute.Int("loader.keys", len(keys))))
		defer span.End()
		return read(ctx, auth.ViewerFrom(ctx), keys)
	}
}

func newLoaders(r *rules.Service, opts ...dataloadgen.Option) *loaders {
	w := append([]dataloadgen.Option{dataloadgen.WithWait(loaderWait)}, opts...)
	return &loaders{
		users:         dataloadgen.NewMappedLoader(batch("UsersByID", r.UsersByID), w...),
		projects:      dataloadgen.NewMappedLoader(batch("ProjectsByID", r.ProjectsByID), w...),
		organizations: dataloadgen.NewMappedLoader(batch("OrganizationsByID", r.OrganizationsByID), w...),
		companies:     dataloadgen.NewMappedLoader(batch("CompaniesByID", r.CompaniesByID), w...),
		events:        dataloadgen.NewMappedLoader(batch("EventsByID", r.EventsByID), w...),
		taskData:      dataloadgen.NewMappedLoader(batch("TaskDataOf", r.TaskDataOf), w...),
		phasesOf:      dataloadgen.NewMappedLoader(batch("PhasesOfProjects", r.PhasesOfProjects), w...),
		openAssigned:  dataloadgen.NewMappedLoader(batch("OpenAssignedCounts", r.OpenAssignedCounts), w...),
	}
}

type loadersKey struct{}

// withLoaders gives a request the loaders of svc, made with opts when a resolver first needs
// them: most requests, those the fast path answers (graph/fast.go), need none.
func withLoaders(ctx context.Context, svc *rules.Service, opts ...dataloadgen.Option) context.Context {
	return context.WithValue(ctx, loadersKey{}, sync.OnceValue(func() *loaders { return newLoaders(svc, opts...) }))
}

func loadersFrom(ctx context.Context) *loaders { return ctx.Value(loadersKey{}).(func() *loaders)() }

// each loads, in one batch, the value every parent refers to by key; a parent whose key is absent
// (ok false) gets the zero value. A batch resolver hands it all its sibling parents at once, so a
// list of any length costs one read per relation.
func each[P any, K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], parents []*P, key func(*P) (K, bool)) ([]V, []error) {
	thunks := make([]func() (V, error), len(parents))
	for i, p := range parents {
		if k, ok := key(p); ok {
			thunks[i] = l.LoadThunk(ctx, k)
		}
	}
	out := make([]V, len(parents))
	errs := make([]error, len(parents))
	for i, load := range thunks {
		if load != nil {
			out[i], errs[i] = load()
		}
	}
	return out, errs
}

// objects loads the object each parent refers to: one that must exist for the viewer (its parent
// is visible) or, when the key is optional, nil.
func objects[P any, K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, *V], parents []*P, key func(*P) (K, bool)) ([]*V, error) {
	out, errs := each(ctx, l, parents, key)
	for _, err := range errs {
		if errors.Is(err, dataloadgen.ErrNotFound) {
			return nil, rules.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lists loads the list each parent has; a parent without rows has an empty list.
func lists[P any, K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, []*V], parents []*P, key func(*P) K) ([][]*V, error) {
	out, errs := each(ctx, l, parents, func(p *P) (K, bool) { return key(p), true })
	for i, err := range errs {
		if err != nil && !errors.Is(err, dataloadgen.ErrNotFound) {
			return nil, err
		}
		if out[i] == nil {
			out[i] = []*V{}
		}
	}
	return out, nil
}

// replies is reply for a change of several tasks.
func replies(ctx context.Context) func([]*rules.Changed, error) ([]*model.Task, error) {
	return func(cs []*rules.Changed, err error) ([]*model.Task, error) {
		if err != nil {
			return nil, err
		}
		tasks := make([]*model.Task, len(cs))
		for i, c := range cs {
			if tasks[i], err = reply(ctx)(c, nil); err != nil {
				return nil, err
			}
		}
		return tasks, nil
	}
}

// counts loads the count each parent has.
func counts[P any, K comparable](ctx context.Context, l *dataloadgen.Loader[K, int], parents []*P, key func(*P) K) ([]int, error) {
	out, errs := each(ctx, l, parents, func(p *P) (K, bool) { return key(p), true })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loads turns a page of assignable users into the page, and has the loaders learn each user's
// open assigned count as the page's statement read it: selecting openAssignedCount costs no
// statement more.
func loads(ctx context.Context) func(*rules.Assignable, error) (*rules.Page[model.User], error) {
	return func(a *rules.Assignable, err error) (*rules.Page[model.User], error) {
		if err != nil {
			return nil, err
		}
		l := loadersFrom(ctx)
		for id, n := range a.OpenAssigned {
			l.openAssigned.Prime(id, n)
		}
		return a.Page, nil
	}
}

// required and optional adapt a parent's key for objects.
func required[P any, K any](key func(*P) K) func(*P) (K, bool) {
	return func(p *P) (K, bool) { return key(p), true }
}

func optional[P any, K any](key func(*P) *K) func(*P) (K, bool) {
	return func(p *P) (K, bool) {
		if k := key(p); k != nil {
			return *k, true
		}
		var zero K
		return zero, false
	}
}

// reply turns what a mutation left into its result. The task carries its assignees and phase as
// the mutation read them inside its transaction, and the loaders forget what they held of its
// project and learn it anew, so that the reply reads them as they are now, and needs no read
// after COMMIT (DESIGN §7).
func reply(ctx context.Context) func(*rules.Changed, error) (*model.Task, error) {
	return func(c *rules.Changed, err error) (*model.Task, error) {
		if err != nil {
			return nil, err
		}
		l := loadersFrom(ctx)
		l.projects.Clear(c.Project.ID)
		l.projects.Prime(c.Project.ID, c.Project)
		return c.Task, nil
	}
}
