package seed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/platform"
)

// S3Putter is the part of the S3 client Write needs; *s3.Client satisfies it.
type S3Putter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Stats describes one Write.
type Stats struct {
	Records, Objects int64
	Elapsed          time.Duration
}

// How Write spreads the work: records stream through one bulkwrite.Writer (parallel BatchWriteItem
// calls of 25) as they are generated; only what is in flight is ever in memory.
const (
	recordWorkers = 8 // parallel BatchWriteItem calls
	objectWriters = 8 // parallel PutObject calls
)

// Write generates and stores: records through the store (parallel BatchWriteItem) as they are
// generated, objects with S3 PutObject into buckets[Object.Bucket] (logical → physical). Memory does
// not grow with the size. If progress is non-nil it shows a progress bar there, after a quick
// counting pass that tells the bar its total.
func Write(ctx context.Context, store *platform.Store, s3c S3Putter, buckets map[string]string, opts Options, progress io.Writer) (Manifest, Stats, error) {
	start := time.Now()
	var bar *progressbar.ProgressBar
	if progress != nil {
		total, err := countItems(opts)
		if err != nil {
			return Manifest{}, Stats{}, err
		}
		bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("seeding"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
	}
	done := func(n int) {
		if bar != nil {
			_ = bar.Add(n)
		}
	}

	var st Stats
	var m Manifest
	g, gctx := errgroup.WithContext(ctx)
	recs := make(chan platform.Record, 4*bulkwrite.MaxBatch)
	objs := make(chan Object, 2*objectWriters)
	g.Go(func() error {
		defer close(recs)
		defer close(objs)
		var err error
		m, err = Generate(opts,
			func(r platform.Record) error { return send(gctx, recs, r) },
			func(o Object) error { return send(gctx, objs, o) })
		return err
	})
	reqs := make(chan bulkwrite.Request, 4*bulkwrite.MaxBatch)
	g.Go(func() error {
		defer close(reqs)
		for r := range recs {
			req, err := store.PutRequest(r)
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			if err := send(gctx, reqs, req); err != nil {
				return err
			}
		}
		return nil
	})
	g.Go(func() error {
		w := bulkwrite.Writer{DB: store.DB(), Workers: recordWorkers, Done: func(n int) {
			atomic.AddInt64(&st.Records, int64(n))
			done(n)
		}}
		if _, err := w.Run(gctx, reqs); err != nil {
			return fmt.Errorf("seed: write records: %w", err)
		}
		return nil
	})
	for range objectWriters {
		g.Go(func() error {
			for o := range objs {
				bucket, ok := buckets[o.Bucket]
				if !ok {
					return fmt.Errorf("seed: no physical name for bucket %s", o.Bucket)
				}
				in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key),
					Body: bytes.NewReader(o.Body), ContentLength: aws.Int64(int64(len(o.Body))), ContentType: aws.String(o.ContentType)}
				if o.Tagging != "" {
					in.Tagging = aws.String(o.Tagging)
				}
				_, err := s3c.PutObject(gctx, in)
				if err != nil {
					return fmt.Errorf("seed: put object %s: %w", o.Key, err)
				}
				atomic.AddInt64(&st.Objects, 1)
				done(1)
			}
			return nil
		})
	}
	err := g.Wait()
	st.Elapsed = time.Since(start)
	if err != nil {
		return Manifest{}, st, err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	return m, st, nil
}

// send hands v to the writers, or gives up when they have failed.
func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// countItems is how many records and objects Generate makes for opts, without hashing the password.
func countItems(opts Options) (int64, error) {
	m, err := generate(opts, false, func(platform.Record) error { return nil }, func(Object) error { return nil })
	if err != nil {
		return 0, err
	}
	return m.Records() + m.Objects, nil
}
