package localaws

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
)

// objectTags adds S3 object tagging, which gofakes3 lacks (it would take PUT ?tagging for an
// upload and overwrite the object with the tag set): tags set at upload (X-Amz-Tagging) and by
// Put/GetObjectTagging are kept in memory, by bucket and key. Nothing local applies lifecycle rules;
// the tags are there so that what sets them behaves as on S3.
type objectTags struct {
	next    http.Handler
	backend gofakes3.Backend
	mu      sync.Mutex
	tags    map[string][]s3Tag // "bucket/key" → tag set
}

type s3Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type s3Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []s3Tag  `xml:"TagSet>Tag"`
}

func (o *objectTags) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if key == "" {
		o.next.ServeHTTP(w, r)
		return
	}
	id := bucket + "/" + key
	if !r.URL.Query().Has("tagging") {
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			o.next.ServeHTTP(rec, r)
			if rec.status == http.StatusOK {
				tags, _ := url.ParseQuery(r.Header.Get("X-Amz-Tagging"))
				var set []s3Tag
				for k, vs := range tags {
					set = append(set, s3Tag{Key: k, Value: vs[0]})
				}
				o.set(id, set)
			}
			return
		}
		o.next.ServeHTTP(w, r)
		return
	}
	if _, err := o.backend.HeadObject(bucket, key); err != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		return
	}
	switch r.Method {
	case http.MethodPut:
		var t s3Tagging
		if err := xml.NewDecoder(r.Body).Decode(&t); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MalformedXML</Code></Error>`)
			return
		}
		o.set(id, t.TagSet)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		o.mu.Lock()
		t := s3Tagging{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", TagSet: o.tags[id]}
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, xml.Header)
		xml.NewEncoder(w).Encode(t)
	case http.MethodDelete:
		o.set(id, nil)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (o *objectTags) set(id string, tags []s3Tag) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(tags) == 0 {
		delete(o.tags, id)
		return
	}
	o.tags[id] = tags
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
