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
		// The default port, fully qualified names and the organization's service hosts.
		{"https://dev.azure.com:443/fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com./fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://dev.azure.com.:443/fabrikam/x", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://fabrikam.visualstudio.com.", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"https://fabrikam.visualstudio.com.:443/DefaultCollection", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"https://fabrikam.visualstudio.com:443", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"https://pkgs.dev.azure.com/fabrikam/_packaging/web/nuget/v3/index.json", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://PKGS.dev.azure.com/Fabrikam/ProjectX/_packaging/feed", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://vsrm.dev.azure.com/fabrikam/ProjectX/_apis/release/releases", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"vsrm.dev.azure.com/fabrikam", "fabrikam", "https://dev.azure.com/fabrikam"},
		{"https://fabrikam.vsrm.visualstudio.com/ProjectX/_apis/release/definitions", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"https://fabrikam.pkgs.visualstudio.com/_packaging/web/nuget/v3/index.json", "fabrikam", "https://fabrikam.visualstudio.com"},
		{"https://fabrikam.vssps.visualstudio.com/", "fabrikam", "https://fabrikam.visualstudio.com"},
		// Non-ASCII in the path is not the host: the organization segment decides.
		{"https://dev.azure.com/fabrikam/Projekt-Müller/_workitems", "fabrikam", "https://dev.azure.com/fabrikam"},
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
		{"https://azure.com/fabrikam", "Azure DevOps Services"},
		{"https://127.0.0.1/fabrikam", "Azure DevOps Services"},
		{"https://[::1]/fabrikam", "not an Azure DevOps host"},
		{"https://user:pw@dev.azure.com/fabrikam", "user name"},
		{"https://dev.azure.com@evil.example/fabrikam", "user name"},
		{"https://dev.azure.com:8443/fabrikam", "port"},
		{"https://dev.azure.com:0443/fabrikam", "port"},
		{"https://dev.azure.com:/fabrikam", "port"},
		{"https://dev.azure.com:443:443/fabrikam", "port"},
		{"https://fabrikam.visualstudio.com:80", "port"},
		{"https://dev.azure.com:443", "no organization name"},
		{"https://dev.azure.com../fabrikam", "Azure DevOps Services"},
		{"https://.dev.azure.com/fabrikam", "Azure DevOps Services"},
		{"https://./fabrikam", "Azure DevOps Services"},
		{"https://fabrikam.visualstudio.com..", "Azure DevOps Services"},
		{"https://status.dev.azure.com/fabrikam", "Azure DevOps Services"},
		{"https://x.pkgs.dev.azure.com/fabrikam", "Azure DevOps Services"},
		{"https://vsrm.visualstudio.com", "organization host"},
		{"https://vsrm.vsrm.visualstudio.com", "organization host"},
		{"https://a.b.vsrm.visualstudio.com", "organization host"},
		{"https://fabrikam.evil.visualstudio.com", "organization host"},
		{"https://127.0.0.1:443/fabrikam", "Azure DevOps Services"},
		{"https://user@fabrikam.visualstudio.com:443", "user name"},
		// Look-alike hosts: refused as written, never folded into ASCII first.
		{"https://fabr\u0130kam.visualstudio.com", "plain letters"},        // dotted capital I, folds to i
		{"https://\u212Aontoso.visualstudio.com", "plain letters"},         // Kelvin sign, folds to k
		{"https://dev.azure.\u212Aom/fabrikam", "plain letters"},           // not even a k: refused all the same
		{"https://\uff46abrikam.visualstudio.com", "plain letters"},        // fullwidth f
		{"https://\uff44\uff45\uff56.azure.com/fabrikam", "plain letters"}, // fullwidth "dev"
		{"https://dev.azure.com\u3002/fabrikam", "plain letters"},          // ideographic full stop, a dot to IDNA
		{"https://fabrikam.visualstudio.com\uff0e", "plain letters"},       // fullwidth full stop
		{"https://dev.azure.com/\u212Aabrikam", "not a valid organization name"},
		{"\u212Aabrikam", "not a valid organization name"},
		{"http\u017F://dev.azure.com/fabrikam", "https"}, // long s folds to s under EqualFold
		{"HTTP\u017F://dev.azure.com/fabrikam", "https"},
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
	for _, s := range []string{"https://dev.azure.com/fabrikam/x/_git/y", "fabrikam", "https://fabrikam.visualstudio.com/DefaultCollection", "<dev.azure.com/a-b>", "https://dev.azure.com.evil/x", "https://u@dev.azure.com/x", "http://x", "https://dev.azure.com:1/x",
		"https://dev.azure.com:443/x", "https://dev.azure.com./x", "https://x.visualstudio.com.", "https://pkgs.dev.azure.com/x/_packaging/f",
		"https://vsrm.dev.azure.com/x/p", "https://x.vsrm.visualstudio.com/p", "https://fabr\u0130kam.visualstudio.com", "https://\u212Aontoso.visualstudio.com",
		"http\u017F://dev.azure.com/x"} {
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
		// Whatever was accepted came from a plain ASCII scheme and host: look-alike
		// letters are refused, never folded into the host they resemble.
		if authority, scheme := orgAuthorityOf(in); !isASCII(authority) || !isASCII(scheme) {
			t.Fatalf("NormalizeOrgURL(%q) accepted a non-ASCII scheme or host: %+v", in, org)
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

// orgAuthorityOf is the fuzz oracle's own, naive split of a pasted link into
// scheme and authority, independent of the code under test.
func orgAuthorityOf(in string) (authority, scheme string) {
	s := strings.TrimSpace(in)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if sch, rest, ok := strings.Cut(s, "://"); ok {
		scheme, s = sch, rest
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s, scheme
}
