package meeting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// strictUnmarshal decodes data into v like json.Unmarshal, but refuses what
// encoding/json lets through: a key that appears twice, a key that matches a
// field only when case is ignored, any unknown key, and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, reflect.TypeOf(v).Elem(), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the message")
	}
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("field %q must be %s", strings.TrimPrefix(typeErr.Field, "Header."), jsonKind(typeErr.Type))
		}
		return err
	}
	return nil
}

// checkValue walks one JSON value, checking object keys against t. A nil t
// takes any value. Each value's JSON type is checked against t before it is
// walked: a list or object where t is neither must be refused here, as the
// walk of its elements has no Go type to check them against.
func checkValue(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if !fits(tok, t) {
		return fmt.Errorf("field %q must be %s", path, jsonKind(t))
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	switch tok {
	case json.Delim('{'):
		return checkObject(dec, t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil {
			elem = t.Elem()
		}
		for dec.More() {
			if err := checkValue(dec, elem, path+"[]"); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ]
		return err
	}
	return nil
}

// fits reports whether a value starting with tok may decode into t. Null
// fits only what can be absent (a pointer, map, slice or interface): a
// null where a string, number, boolean or object belongs is a wrong type,
// not a default.
func fits(tok json.Token, t reflect.Type) bool {
	if t == nil {
		return true
	}
	k := t.Kind()
	if k == reflect.Interface {
		return true
	}
	if tok == nil {
		return k == reflect.Pointer || k == reflect.Map || k == reflect.Slice
	}
	for k == reflect.Pointer {
		t = t.Elem()
		k = t.Kind()
	}
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('{') {
			return k == reflect.Struct || k == reflect.Map
		}
		return k == reflect.Slice || k == reflect.Array
	case string:
		return k == reflect.String
	case bool:
		return k == reflect.Bool
	case json.Number:
		return reflect.Int <= k && k <= reflect.Float64
	}
	return false
}

func checkObject(dec *json.Decoder, t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("malformed JSON: %w", err)
		}
		key := tok.(string)
		name := strings.TrimPrefix(path+"."+key, ".")
		if seen[key] {
			return fmt.Errorf("key %q appears twice", name)
		}
		seen[key] = true
		var ft reflect.Type
		switch {
		case fields != nil:
			var ok bool
			if ft, ok = fields[key]; !ok {
				for known := range fields {
					if strings.EqualFold(known, key) {
						return fmt.Errorf("key %q must be spelled %q", name, strings.TrimPrefix(path+"."+known, "."))
					}
				}
				return fmt.Errorf("unknown key %q", name)
			}
		case t != nil && t.Kind() == reflect.Map:
			ft = t.Elem()
		}
		if err := checkValue(dec, ft, name); err != nil {
			return err
		}
	}
	_, err := dec.Token() // }
	return err
}

// jsonFields maps a struct's JSON keys to their types, flattening embedded
// structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a number"
}
