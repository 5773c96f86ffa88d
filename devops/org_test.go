package devops

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/apperr"
)

func TestNormalizeOrgURL(t *testing.T) {
	ok := []struct{ in, name, url string }{
		{"https://dev.azure.com/fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com/fabrikam/", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com/fabrikam/ProjectX/_git/WebPortal/pullrequest/860", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com/fabrikam/Web%20Portal/_workitems/edit/12", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com/fabrikam?x=1", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com/fabrikam#top", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"dev.azure.com/fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"  https://dev.azure.com/fabrikam  ", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"<https://dev.azure.com/fabrikam/ProjectX>", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"HTTPS://DEV.AZURE.COM/Fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://vssps.dev.azure.com/fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://fabrikam.visualstudio.com", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"https://fabrikam.visualstudio.com/DefaultCollection/ProjectX/_workitems", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"fabrikam.visualstudio.com/", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"contoso-eng-2", "contoso-eng-2", "https://dev.azure.com/contoso-eng-2"},
		{"https://dev.azure.com/" + strings.Repeat("a", 50), strings.Repeat("a", 50), "https://dev.azure.com/" + strings.Repeat("a", 50)},
	}
	for _, tc := range ok {
		got, err := NormalizeOrgURL(tc.in)
		if err != nil {
			t.Errorf("NormalizeOrgURL(%q): unexpected error %v", tc.in, err)
			continue
		}
		if got.Name != tc.name || got.URL != tc.url {
			t.Errorf("NormalizeOrgURL(%q) = %+v, want %s %s", tc.in, got, tc.name, tc.url)
		}
	}
	bad := []struct{ in, why string }{
		{"", "Please give"},
		{"   ", "Please give"},
		{"<>", "Please give"},
		{"http://dev.azure.com/fabrikam", "https"},
		{"ftp://dev.azure.com/fabrikam", "https"},
		{"javascript:alert(1)", "https"},
		{"https://github.com/fabrikam", "Azure DevOps Services"},
		{"https://dev.azure.com.evil.example/fabrikam", "Azure DevOps Services"},
		{"https://evil-dev.azure.com/fabrikam", "Azure DevOps Services"},
		{"https://evildev.azure.com/fabrikam", "Azure DevOps Services"},
		{"https://dev.azure.com./fabrikam", "Azure DevOps Services"},
		{"https://azure.com/fabrikam", "Azure DevOps Services"},
		{"https://127.0.0.1/fabrikam", "Azure DevOps Services"},
		{"https://[::1]/fabrikam", "not an Azure DevOps host"},
		{"https://user:pw@dev.azure.com/fabrikam", "user name"},
		{"https://dev.azure.com@evil.example/fabrikam", "user name"},
		{"https://dev.azure.com:8443/fabrikam", "port"},
		{"https://dev.azure.com:443/fabrikam", "port"},
		{"https://dev%2eazure.com/fabrikam", "not an Azure DevOps host"},
		{"https://dev.azure.com/fab%72ikam", "not a valid organization name"},
		{"https://dev.azure.com/%2e%2e/evil", "not a valid organization name"},
		{`https://dev.azure.com\@evil.example/fabrikam`, "backslashes"},
		{"https://dev.azure.com/fabri\nkam", "control"},
		{"https://dev.azure.com/fabrikam\x00", "control"},
		{"https://dev.azure.com/", "no organization name"},
		{"https://dev.azure.com", "no organization name"},
		{"https://dev.azure.com/-fabrikam", "not a valid organization name"},
		{"https://dev.azure.com/fabrikam-", "not a valid organization name"},
		{"https://dev.azure.com/fab_rikam", "not a valid organization name"},
		{"https://dev.azure.com/fabrikäm", "not a valid organization name"},
		{"https://dev.azure.com/" + strings.Repeat("a", 51), "not a valid organization name"},
		{"https://evil.example.visualstudio.com", "organization host"},
		{"https://app.vssps.visualstudio.com/fabrikam", "organization host"},
		{"https://-x.visualstudio.com", "organization host"},
		{"//dev.azure.com/fabrikam", "https"},
		{"fab rikam", "spaces"},
		{"-fabrikam", "not a valid organization name"},
		{"evil.example", "Azure DevOps Services"},
		{"https://dev.azure.com/" + strings.Repeat("x", 3000), "too long"},
	}
	for _, tc := range bad {
		got, err := NormalizeOrgURL(tc.in)
		if err == nil {
			t.Errorf("NormalizeOrgURL(%q) = %+v, want refusal", tc.in, got)
			continue
		}
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("NormalizeOrgURL(%q): kind %v, want invalid", tc.in, apperr.KindOf(err))
		}
		if msg := apperr.UserMessage(err); !strings.Contains(msg, tc.why) {
			t.Errorf("NormalizeOrgURL(%q): message %q does not explain %q", tc.in, msg, tc.why)
		}
	}
}

var acceptedOrgURL = regexp.MustCompile(`^(https://dev\.azure\.com/([a-z0-9-]{1,50})|https://([a-z0-9-]{1,50})\.visualstudio\.com)$`)

func FuzzNormalizeOrgURL(f *testing.F) {
	for _, s := range []string{"https://dev.azure.com/fabrikam/x/_git/y", "fabrikam", "https://fabrikam.visualstudio.com/DefaultCollection", "<dev.azure.com/a-b>", "https://dev.azure.com.evil/x", "https://u@dev.azure.com/x", "http://x", "https://dev.azure.com:1/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		org, err := NormalizeOrgURL(in)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) || apperr.UserMessage(err) == "" {
				t.Fatalf("refusal of %q is not an Invalid error with a message: %v", in, err)
			}
			return
		}
		m := acceptedOrgURL.FindStringSubmatch(org.URL)
		if m == nil {
			t.Fatalf("NormalizeOrgURL(%q) accepted %q", in, org.URL)
		}
		name := m[2] + m[3]
		if name != org.Name || !ValidOrgName(name) {
			t.Fatalf("NormalizeOrgURL(%q) = %+v: name does not match URL or is invalid", in, org)
		}
		// Normalizing the result is a fixed point.
		again, err := NormalizeOrgURL(org.URL)
		if err != nil || again != org {
			t.Fatalf("NormalizeOrgURL(%q) not idempotent: %+v then %+v, %v", in, org, again, err)
		}
	})
}
