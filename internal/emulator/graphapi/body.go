package graphapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
)

// maxBodyBytes is Graph's request size limit (4 MB).
const maxBodyBytes = 4 << 20

// readJSONObject reads a request body that must be one JSON object, with
// Graph's size limit. Keys keep their order-independent raw values.
// Bodies may be gzip-compressed, as kiota's compression middleware sends
// them; the size limit applies to the decompressed payload.
func readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeJSONObject(body)
}

// readOptionalJSONObject is readJSONObject for an action whose parameters
// are all optional: an empty body gives a nil map.
func readOptionalJSONObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	body, err := readBody(w, r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return nil, err
	}
	return decodeJSONObject(body)
}

// readBody reads a request body with Graph's size limit, decompressing it
// when the client gzipped it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var src io.Reader = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, errUnreadableJSON)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, grapherr.New(http.StatusUnsupportedMediaType, grapherr.CodeBadRequestPlain,
			fmt.Sprintf("Content-Encoding '%s' is not supported.", enc))
	}
	body, err := io.ReadAll(io.LimitReader(src, maxBodyBytes+1))
	if err == nil && len(body) > maxBodyBytes {
		err = &http.MaxBytesError{Limit: maxBodyBytes}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, grapherr.New(http.StatusRequestEntityTooLarge, grapherr.CodeEntityTooLarge,
				fmt.Sprintf("The request body exceeds the maximum size of %d bytes.", maxBodyBytes))
		}
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, errUnreadableJSON)
	}
	return body, nil
}

var errUnreadableJSON = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."

// decodeJSONObject parses body as a single JSON object.
func decodeJSONObject(body []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, "Empty Payload. JSON content expected.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, errUnreadableJSON)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, errUnreadableJSON)
	}
	return obj, nil
}

const odataContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

func writeOData(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", odataContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
