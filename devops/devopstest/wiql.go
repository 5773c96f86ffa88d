package devopstest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

type tok struct {
	kind string // field, string, macro, word, op
	text string
}

// lexWIQL understands the subset of WIQL the client sends: [fields], 'strings'
// with ” escapes, @macros, words and "=".
func lexWIQL(s string) ([]tok, error) {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, errors.New("unterminated field")
			}
			out = append(out, tok{"field", s[i+1 : i+j]})
			i += j + 1
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, errors.New("unterminated string")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			out = append(out, tok{"string", b.String()})
		case c == '=' || c == '(' || c == ')' || c == ',':
			out = append(out, tok{"op", string(c)})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n[]'=(),", s[j]) < 0 {
				j++
			}
			w := s[i:j]
			if strings.HasPrefix(w, "@") {
				out = append(out, tok{"macro", strings.ToLower(w)})
			} else {
				out = append(out, tok{"word", strings.ToUpper(w)})
			}
			i = j
		}
	}
	return out, nil
}

type cond struct {
	field, op, value string
	values           []string // IN ('a', 'b')
}

type query struct {
	conds   []cond
	orderBy string
	desc    bool
}

func parseWIQL(s string, project string) (*query, error) {
	ts, err := lexWIQL(s)
	if err != nil {
		return nil, err
	}
	p := 0
	next := func() tok {
		if p >= len(ts) {
			return tok{}
		}
		p++
		return ts[p-1]
	}
	expect := func(kind, text string) error {
		t := next()
		if t.kind != kind || (text != "" && t.text != text) {
			return errors.New("expected " + text + " near " + t.text)
		}
		return nil
	}
	if err := expect("word", "SELECT"); err != nil {
		return nil, err
	}
	for {
		if err := expect("field", ""); err != nil {
			return nil, err
		}
		if p < len(ts) && ts[p].text == "," {
			p++
			continue
		}
		break
	}
	if err := expect("word", "FROM"); err != nil {
		return nil, err
	}
	if err := expect("word", "WORKITEMS"); err != nil {
		return nil, err
	}
	q := &query{}
	if p < len(ts) && ts[p].text == "WHERE" {
		p++
		for {
			f := next()
			if f.kind != "field" {
				return nil, errors.New("expected a field")
			}
			op := next()
			if op.kind == "word" && op.text == "IN" {
				if err := expect("op", "("); err != nil {
					return nil, err
				}
				c := cond{field: f.text, op: "IN"}
				for {
					v := next()
					if v.kind != "string" {
						return nil, errors.New("expected a string in IN")
					}
					c.values = append(c.values, v.text)
					if t := next(); t.kind == "op" && t.text == "," {
						continue
					} else if t.kind == "op" && t.text == ")" {
						break
					}
					return nil, errors.New("expected , or ) in IN")
				}
				q.conds = append(q.conds, c)
				if p < len(ts) && ts[p].text == "AND" {
					p++
					continue
				}
				break
			}
			if !(op.kind == "op" && op.text == "=") && !(op.kind == "word" && op.text == "CONTAINS") {
				return nil, errors.New("unsupported operator " + op.text)
			}
			v := next()
			switch {
			case v.kind == "string":
			case v.kind == "macro" && v.text == "@project":
				v.text = project
			default:
				return nil, errors.New("expected a value")
			}
			q.conds = append(q.conds, cond{field: f.text, op: op.text, value: v.text})
			if p < len(ts) && ts[p].text == "AND" {
				p++
				continue
			}
			break
		}
	}
	if p < len(ts) && ts[p].text == "ORDER" {
		p++
		if err := expect("word", "BY"); err != nil {
			return nil, err
		}
		f := next()
		if f.kind != "field" {
			return nil, errors.New("expected an order field")
		}
		q.orderBy = f.text
		if p < len(ts) && (ts[p].text == "ASC" || ts[p].text == "DESC") {
			q.desc = ts[p].text == "DESC"
			p++
		}
	}
	if p != len(ts) {
		return nil, errors.New("unexpected " + ts[p].text)
	}
	return q, nil
}

func (o *Org) fieldString(wi *FakeWorkItem, f string) string {
	switch f {
	case "System.Id":
		return strconv.Itoa(wi.ID)
	case "System.TeamProject":
		return wi.Project
	case "System.WorkItemType":
		return wi.Type
	}
	s, _ := wi.Fields[f].(string)
	return s
}

func (o *Org) wiql(w http.ResponseWriter, r *http.Request, rt *route) {
	var req struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.Query == "" {
		vssError(w, 400, "VssPropertyValidationException", "The query is empty.", 0)
		return
	}
	q, err := parseWIQL(req.Query, rt.project.Name)
	if err != nil {
		vssError(w, 400, "WiqlSyntaxException", "TF51005: The query references a field or syntax that is not supported: "+err.Error(), 0)
		return
	}
	top := 20000
	if t := r.URL.Query().Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			vssError(w, 400, "ArgumentException", "$top is not valid.", 0)
			return
		}
		top = n
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var hits []*FakeWorkItem
	for _, id := range sortedIDs(o.items) {
		wi := o.items[id]
		ok := true
		for _, c := range q.conds {
			v := o.fieldString(wi, c.field)
			switch c.op {
			case "IN":
				in := false
				for _, x := range c.values {
					in = in || strings.EqualFold(v, x)
				}
				ok = ok && in
			case "=":
				ok = ok && strings.EqualFold(v, c.value)
			case "CONTAINS":
				if c.field == "System.Tags" {
					found := false
					for _, t := range strings.Split(v, ";") {
						found = found || strings.EqualFold(strings.TrimSpace(t), c.value)
					}
					ok = ok && found
				} else {
					ok = ok && strings.Contains(strings.ToLower(v), strings.ToLower(c.value))
				}
			}
		}
		if ok {
			hits = append(hits, wi)
		}
	}
	// The fake has no change dates: creation order stands in for them.
	if q.desc {
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].ID > hits[j].ID })
	}
	if len(hits) > top {
		hits = hits[:top]
	}
	items := []map[string]any{}
	for _, h := range hits {
		items = append(items, map[string]any{"id": h.ID, "url": o.base() + "/_apis/wit/workItems/" + strconv.Itoa(h.ID)})
	}
	writeJSON(w, map[string]any{"queryType": "flat", "queryResultType": "workItem", "columns": []map[string]any{{"referenceName": "System.Id", "name": "ID"}}, "workItems": items})
}
