package devopstest

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// WorkItemPage is where a person's browser opens a fake work item: the same
// shape as Azure DevOps' own links ({org}/{project}/_workitems/edit/{id}), but
// served by the fake organization itself, so demo cards never send anyone to
// the real dev.azure.com/fabrikam.
func (o *Org) WorkItemPage(project string, id int) string {
	return o.base() + "/" + strings.ReplaceAll(project, " ", "%20") + "/_workitems/edit/" + strconv.Itoa(id)
}

// servePage answers GET {org}/{project}/_workitems/edit/{id} with a small
// read-only HTML page; it reports whether the path was such a page.
func (o *Org) servePage(w http.ResponseWriter, r *http.Request, segs []string) bool {
	if len(segs) != 5 || !strings.EqualFold(segs[2], "_workitems") || !strings.EqualFold(segs[3], "edit") || r.Method != http.MethodGet {
		return false
	}
	id, err := strconv.Atoi(segs[4])
	if err != nil {
		return false
	}
	wi, ok := o.WorkItem(id)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if !ok || !strings.EqualFold(wi.Project, segs[1]) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, pageHead+"<h1>Work item not found</h1><p>This demo organization has no such work item.</p></body></html>")
		return true
	}
	field := func(name string) string { s, _ := wi.Fields[name].(string); return s }
	var b strings.Builder
	b.WriteString(pageHead)
	fmt.Fprintf(&b, "<h1>%s %d: %s</h1>", html.EscapeString(wi.Type), wi.ID, html.EscapeString(field("System.Title")))
	b.WriteString("<dl>")
	for _, f := range [][2]string{{"Project", wi.Project}, {"Assigned to", field("System.AssignedTo")}, {"Area", field("System.AreaPath")}, {"Iteration", field("System.IterationPath")}, {"Tags", field("System.Tags")}} {
		fmt.Fprintf(&b, "<dt>%s</dt><dd>%s</dd>", f[0], html.EscapeString(f[1]))
	}
	b.WriteString("</dl><h2>Description</h2>")
	// Descriptions and comments are HTML; show their text, never their markup:
	// this page must not run anything a test or a demo user put there.
	fmt.Fprintf(&b, "<pre>%s</pre>", html.EscapeString(htmlText(field("System.Description"))))
	if cs := o.Comments(id); len(cs) > 0 {
		b.WriteString("<h2>Comments</h2>")
		for _, c := range cs {
			fmt.Fprintf(&b, "<pre>%s</pre>", html.EscapeString(htmlText(c.Text)))
		}
	}
	b.WriteString("</body></html>")
	fmt.Fprint(w, b.String())
	return true
}

var (
	lineBreakTag = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>`)
	anyTag       = regexp.MustCompile(`<[^>]*>`)
)

// htmlText turns the HTML Azure DevOps stores into the text a person reads.
func htmlText(s string) string {
	s = lineBreakTag.ReplaceAllString(s, "\n")
	s = anyTag.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

const pageHead = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Demo work item</title>` +
	`<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}` +
	`.demo{background:#fff4ce;color:#3b2e00;padding:.5rem 1rem;border-radius:4px}dt{font-weight:600}pre{white-space:pre-wrap}</style>` +
	`</head><body><p class="demo">Demo mode: a fake Azure DevOps organization served by Sally. Nothing here is real.</p>`
