package faults

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// dice is the random source of one call, derived from the seed and the call's place in the schedule
// alone.
type dice struct{ *rand.Rand }

func newDice(seed, k uint64) *dice {
	a := splitmix64(seed ^ splitmix64(k))
	return &dice{rand.New(rand.NewPCG(a, splitmix64(a^k)))}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// subset picks k of n indexes, k in [lo, hi], returned in increasing order as a set.
func (d *dice) subset(n, lo, hi int) map[int]bool {
	k := lo + d.IntN(hi-lo+1)
	picked := make(map[int]bool, k)
	for _, i := range d.Perm(n)[:k] {
		picked[i] = true
	}
	return picked
}

func (d *dice) id(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[d.IntN(len(alphabet))]
	}
	return string(b)
}

// setBody replaces req's body and makes its length and payload checksums match the new one. The
// signature is left stale: DynamoDB Local and gofakes3 do not check it (the tests show they accept
// rewritten bodies).
func setBody(req *http.Request, body []byte) error {
	if ce := req.Header.Get("Content-Encoding"); strings.Contains(ce, "aws-chunked") {
		return fmt.Errorf("faults: cannot rewrite an aws-chunked body (trailing checksum) of %s", req.URL)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
	if req.Header.Get("Content-Length") != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return fixChecksums(req.Header, body)
}

// crc64NVME is the table of the CRC-64/NVME polynomial (reversed), the SDK's CRC64NVME algorithm.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// fixChecksums recomputes, for body, every payload checksum header the SDK may have set: Content-MD5,
// X-Amz-Content-Sha256 (when it is a hash, not UNSIGNED-PAYLOAD) and the flexible checksums
// X-Amz-Checksum-{CRC32,CRC32C,CRC64NVME,SHA1,SHA256}.
func fixChecksums(h http.Header, body []byte) error {
	for name, vs := range h {
		var sum []byte
		switch strings.ToLower(name) {
		case "content-md5":
			s := md5.Sum(body)
			sum = s[:]
		case "x-amz-content-sha256":
			if len(vs) == 1 && len(vs[0]) == sha256.Size*2 {
				s := sha256.Sum256(body)
				h[name] = []string{hex.EncodeToString(s[:])}
			}
			continue
		case "x-amz-checksum-crc32":
			sum = binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))
		case "x-amz-checksum-crc32c":
			sum = binary.BigEndian.AppendUint32(nil, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
		case "x-amz-checksum-crc64nvme":
			sum = binary.BigEndian.AppendUint64(nil, crc64.Checksum(body, crc64NVME))
		case "x-amz-checksum-sha1":
			s := sha1.Sum(body)
			sum = s[:]
		case "x-amz-checksum-sha256":
			s := sha256.Sum256(body)
			sum = s[:]
		case "x-amz-checksum-type", "x-amz-checksum-mode":
			continue
		default:
			if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
				return fmt.Errorf("faults: cannot recompute %s for a rewritten body", name)
			}
			continue
		}
		h[name] = []string{base64.StdEncoding.EncodeToString(sum)}
	}
	return nil
}

// newResponse is a response made here, never sent by the emulator.
func newResponse(req *http.Request, status int, h http.Header, body []byte) *http.Response {
	if req.Method == http.MethodHead {
		body = nil
	}
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// replaceBody gives a response read by forward its rewritten body.
func replaceBody(resp *http.Response, body []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// marshal is json.Marshal without HTML escaping, which would rewrite <, > and & in the values it
// passes through.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
