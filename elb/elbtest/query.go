package elbtest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// form is a parsed awsQuery request: the flat key/value pairs of the body,
// plus every dotted prefix of every key so that "is there anything under
// Actions.member.2?" is one map lookup.
type form struct {
	values   map[string]string
	prefixes map[string]struct{}
}

func newForm(values map[string][]string) *form {
	f := &form{values: make(map[string]string, len(values)), prefixes: make(map[string]struct{}, 2*len(values))}
	for k, vs := range values {
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		f.values[k] = v
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				f.prefixes[k[:i+1]] = struct{}{}
			}
		}
	}
	return f
}

func (f *form) get(k string) (string, bool) {
	v, ok := f.values[k]
	return v, ok
}

func (f *form) has(prefix string) bool {
	_, ok := f.prefixes[prefix]
	return ok
}

var timeType = reflect.TypeFor[time.Time]()

// decodeQuery fills the exported fields of the struct that dst points to
// from f, following the awsQuery serialization of SDK v1.64.0: a member's
// key is its name; nested structures add ".Member"; lists are
// "Name.member.N" (N from 1) and an empty list is the bare key "Name=";
// maps are "Name.entry.N.key"/"Name.entry.N.value". Field names of the SDK's
// input types are the wire names (checked against its schemas), which is
// what lets one decoder serve every operation.
func decodeQuery(f *form, dst any) error {
	return decodeStruct(f, reflect.ValueOf(dst).Elem(), "")
}

func decodeStruct(f *form, v reflect.Value, prefix string) error {
	for _, fi := range fieldsOf(v.Type()) {
		if err := decodeValue(f, v.Field(fi.index), prefix+fi.name); err != nil {
			return err
		}
	}
	return nil
}

// field is one exported member of an SDK struct.
type field struct {
	index int
	name  string
}

// fieldCache maps a struct type to its exported members: the codec walks
// the same few dozen SDK types on every request, and reflect's
// Type.Field allocates.
var fieldCache sync.Map // reflect.Type → []field

func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		if sf := t.Field(i); sf.IsExported() && sf.Name != "ResultMetadata" {
			fs = append(fs, field{i, sf.Name})
		}
	}
	fieldCache.Store(t, fs)
	return fs
}

func decodeValue(f *form, fv reflect.Value, key string) error {
	switch fv.Kind() {
	case reflect.Pointer:
		et := fv.Type().Elem()
		if et.Kind() == reflect.Struct && et != timeType {
			if !f.has(key + ".") {
				return nil
			}
			p := reflect.New(et)
			if err := decodeStruct(f, p.Elem(), key+"."); err != nil {
				return err
			}
			fv.Set(p)
			return nil
		}
		s, ok := f.get(key)
		if !ok {
			return nil
		}
		p := reflect.New(et)
		if err := setScalar(p.Elem(), s, key); err != nil {
			return err
		}
		fv.Set(p)
	case reflect.Slice:
		if !f.has(key + ".member.") {
			if _, ok := f.get(key); ok {
				fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
			}
			return nil
		}
		s := reflect.MakeSlice(fv.Type(), 0, 2)
		for n := 1; ; n++ {
			ek := key + ".member." + strconv.Itoa(n)
			_, scalar := f.get(ek)
			if !scalar && !f.has(ek+".") {
				break
			}
			e := reflect.New(fv.Type().Elem()).Elem()
			if err := decodeValue(f, e, ek); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		fv.Set(s)
	case reflect.Map:
		if !f.has(key + ".entry.") {
			return nil
		}
		m := reflect.MakeMap(fv.Type())
		for n := 1; ; n++ {
			ek := key + ".entry." + strconv.Itoa(n)
			k, ok := f.get(ek + ".key")
			if !ok {
				break
			}
			val, _ := f.get(ek + ".value")
			m.SetMapIndex(reflect.ValueOf(k).Convert(fv.Type().Key()), reflect.ValueOf(val).Convert(fv.Type().Elem()))
		}
		fv.Set(m)
	case reflect.Struct:
		if fv.Type() == timeType {
			s, ok := f.get(key)
			if !ok {
				return nil
			}
			return setScalar(fv, s, key)
		}
		return decodeStruct(f, fv, key+".")
	default:
		s, ok := f.get(key)
		if !ok {
			return nil
		}
		return setScalar(fv, s, key)
	}
	return nil
}

func setScalar(v reflect.Value, s, key string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return malformed(key, s, "Member must be a boolean")
		}
		v.SetBool(b)
	case reflect.Int32, reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return malformed(key, s, "Member must be a number")
		}
		v.SetInt(n)
	case reflect.Float64, reflect.Float32:
		x, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return malformed(key, s, "Member must be a number")
		}
		v.SetFloat(x)
	case reflect.Struct:
		if v.Type() == timeType {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return malformed(key, s, "Member must be a timestamp")
			}
			v.Set(reflect.ValueOf(ts))
			return nil
		}
		fallthrough
	default:
		return fmt.Errorf("elbtest: cannot decode %s into %s", key, v.Type())
	}
	return nil
}

// malformed is the error for a value that does not parse as its member's
// type, in AWS's "1 validation error detected" form.
func malformed(key, value, constraint string) *APIError {
	return validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, lowerFirst(key), constraint)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// xmlWriter builds an XML document into a buffer. The awsQuery and ec2query
// response bodies are simple enough (elements and text, no attributes except
// xmlns) that writing them directly is both clearer and much faster than
// encoding/xml's reflection.
type xmlWriter struct{ bytes.Buffer }

func (w *xmlWriter) open(name string)  { w.WriteByte('<'); w.WriteString(name); w.WriteByte('>') }
func (w *xmlWriter) close(name string) { w.WriteString("</"); w.WriteString(name); w.WriteByte('>') }

func (w *xmlWriter) elem(name, text string) {
	w.open(name)
	_ = xml.EscapeText(w, []byte(text))
	w.close(name)
}

// isoTime is the timestamp format AWS query APIs use: ISO 8601, UTC,
// milliseconds ("2016-03-25T21:26:12.920Z").
const isoTime = "2006-01-02T15:04:05.000Z"

// encodeQuery writes the fields of the output struct v as awsQuery XML:
// each member as an element of its name, lists as <member> items, maps as
// <entry><key/><value/></entry>. Nil pointers, nil slices and empty enum
// strings are left out, as AWS leaves out unset members.
func encodeQuery(w *xmlWriter, v reflect.Value) {
	for _, fi := range fieldsOf(v.Type()) {
		encodeMember(w, fi.name, v.Field(fi.index))
	}
}

func encodeMember(w *xmlWriter, name string, fv reflect.Value) {
	switch fv.Kind() {
	case reflect.Pointer:
		if fv.IsNil() {
			return
		}
		encodeMember(w, name, fv.Elem())
	case reflect.Slice:
		if fv.IsNil() {
			return
		}
		w.open(name)
		for j := 0; j < fv.Len(); j++ {
			encodeMember(w, "member", fv.Index(j))
		}
		w.close(name)
	case reflect.Map:
		if fv.IsNil() {
			return
		}
		keys := fv.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
		w.open(name)
		for _, k := range keys {
			w.open("entry")
			w.elem("key", k.String())
			w.elem("value", fv.MapIndex(k).String())
			w.close("entry")
		}
		w.close(name)
	case reflect.Struct:
		if fv.Type() == timeType {
			w.elem(name, fv.Interface().(time.Time).UTC().Format(isoTime))
			return
		}
		w.open(name)
		encodeQuery(w, fv)
		w.close(name)
	case reflect.String:
		if fv.String() == "" && fv.Type().Name() != "string" {
			return // an unset enum
		}
		w.elem(name, fv.String())
	case reflect.Bool:
		w.elem(name, strconv.FormatBool(fv.Bool()))
	case reflect.Int32, reflect.Int64, reflect.Int:
		w.elem(name, strconv.FormatInt(fv.Int(), 10))
	case reflect.Float64, reflect.Float32:
		w.elem(name, strconv.FormatFloat(fv.Float(), 'g', -1, 64))
	}
}

func valueOf(v any) reflect.Value { return reflect.ValueOf(v) }
