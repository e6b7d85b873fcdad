package elb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Marshal encodes v (a *Stack, or any model type) in the documented JSON
// form: lowerCamelCase field names, zero values omitted, tags sorted, two
// spaces of indentation and a final newline. Equal values give identical
// bytes.
func Marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("elb: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// ErrTrailingData is returned by Unmarshal when the input holds more than
// one JSON value.
var ErrTrailingData = errors.New("elb: trailing data after the JSON value")

// Unmarshal decodes the JSON form into v (a *Stack, or a pointer to any
// model type). It rejects unknown fields (so a misspelt field is an error,
// not a silently ignored setting) and trailing data. It does not apply
// defaults or validate; on error v may be partly filled, so decode into a
// fresh value.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("elb: decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	return nil
}
