package localaws

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	bolt "go.etcd.io/bbolt"
)

var staticCreds = credentials.NewStaticCredentialsProvider("lethelocal", "lethelocal", "")

// serveS3 serves gofakes3 on 127.0.0.1:port (0 = a free port): in memory, or in a bolt file when
// dataFile is set, so `make run`'s demo files survive a restart like its tables do. close releases
// the backend after the server has stopped.
func serveS3(port int, dataFile string) (url string, srv *http.Server, close func() error, err error) {
	var backend gofakes3.Backend = s3mem.New()
	close = func() error { return nil }
	if dataFile != "" {
		// Opened here rather than by s3bolt.NewFile, which offers no way to close the file again.
		db, err := bolt.Open(dataFile, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return "", nil, nil, fmt.Errorf("open s3 data file %s: %w (another lethe local?)", dataFile, err)
		}
		backend, close = s3bolt.New(db), db.Close
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		close()
		return "", nil, nil, fmt.Errorf("listen for s3: %w", err)
	}
	fake := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	tags := &objectTags{next: fake.Server(), backend: backend, tags: map[string][]s3Tag{}}
	srv = &http.Server{Handler: tags, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l) // returns ErrServerClosed on Close
	return "http://" + l.Addr().String(), srv, close, nil
}
