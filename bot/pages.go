package bot

import (
	"html/template"
	"net/http"
)

// teamsJS is Microsoft's teams-js, the only external asset a page loads: the
// success page needs it to hand the one-time code back to Teams.
const teamsJS = "https://res.cdn.office.net/teams-js/2.22.0/js/MicrosoftTeams.min.js"

type page struct {
	Title     string
	Message   string
	Code      string // the one-time code, shown for typing into the chat
	Notify    string // the value handed to authentication.notifySuccess
	AdminLink string
	Failure   bool
	Info      bool   // a plain information page: no status line
	nonce     string // per response, for the CSP
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · Sally for Azure DevOps</title>
<style>
body{font-family:"Segoe UI",system-ui,sans-serif;margin:0;background:#f5f5f5;color:#242424}
main{max-width:32rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 1rem}
.product{font-size:.9rem;color:#616161;margin:0 0 .5rem}
.status{font-weight:600}
.ok{color:#0e700e}.fail{color:#b10e1c}
.code{font:700 1.8rem/1.2 Consolas,monospace;letter-spacing:.15em;background:#f0f0f0;padding:.5rem 1rem;border-radius:4px;display:inline-block}
a{color:#0f6cbd}
</style>
</head>
<body>
<main>
<p class="product">Sally for Azure DevOps</p>
<h1>{{.Title}}</h1>
{{if not .Info}}<p class="status {{if .Failure}}fail{{else}}ok{{end}}" role="status">{{if .Failure}}Not connected.{{else}}Almost done.{{end}}</p>{{end}}
<p>{{.Message}}</p>
{{if .Code}}<p><span class="code" aria-label="One-time code">{{.Code}}</span></p>
<p>Type <strong>code {{.Code}}</strong> in Teams if this window stays open.</p>{{end}}
{{if .AdminLink}}<p><a href="{{.AdminLink}}" rel="noopener noreferrer">Admin approval link for Sally</a></p>{{end}}
{{if not .Info}}<p>You can close this window.</p>{{end}}
</main>
{{if .Notify}}<script src="` + teamsJS + `"></script>
<script nonce="{{.ScriptNonce}}">
(function(){
  if (!window.microsoftTeams) { return; }
  microsoftTeams.app.initialize().then(function(){
    microsoftTeams.authentication.notifySuccess({{.Notify}});
  }).catch(function(){});
})();
</script>{{end}}
</body>
</html>`))

// ScriptNonce is the CSP nonce of the inline script.
func (p page) ScriptNonce() string { return p.nonce }

func (b *Bot) renderPage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	csp := "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
	if p.Notify != "" {
		p.nonce = randomID(16)
		csp += "; script-src https://res.cdn.office.net 'nonce-" + p.nonce + "'; connect-src 'self'"
	}
	h.Set("Content-Security-Policy", csp+"; frame-ancestors https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil {
		b.log.Error("could not render a page", "err", err)
	}
}
