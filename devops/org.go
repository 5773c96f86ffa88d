// Package devops is the bot's Azure DevOps client: organization URL rules, Entra ID
// OAuth settings, the dozen REST calls the bot needs, typed errors, retries and a
// metadata cache. It knows nothing of Teams: callers hand it an organization, a
// token source and plain text, and get back plain Go values or *apperr.Error.
package devops

import (
	"strings"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// Org is an Azure DevOps Services organization. URL is the collection URL every
// REST path hangs off: https://dev.azure.com/{name}, or the legacy
// https://{name}.visualstudio.com, which we keep because links people click
// elsewhere still use it.
type Org struct {
	Name string
	URL  string
}

// Legacy reports whether the organization uses the old {name}.visualstudio.com host.
func (o Org) Legacy() bool { return strings.HasSuffix(o.URL, ".visualstudio.com") }

const maxOrgInput = 2048

// NormalizeOrgURL turns whatever a person pasted (a link to a pull request, a
// board, the organization itself, or just its name) into the organization it
// belongs to. A bare name such as "fabrikam" is accepted as dev.azure.com/fabrikam
// because that is what people type when asked for their organization. Links on
// the organization's service hosts (pkgs/vsrm/vssps.dev.azure.com/{org},
// {org}.vsrm.visualstudio.com...), with the default port :443 or a fully
// qualified trailing dot, reduce to the same organization.
//
// Everything that is not an Azure DevOps Services host is refused: the bot sends
// the user's token to this URL, so a look-alike (non-ASCII) host, another port,
// credentials in the URL or an encoded trick would leak it.
func NormalizeOrgURL(raw string) (Org, error) {
	s := strings.TrimSpace(raw)
	if len(s) > maxOrgInput {
		return Org{}, invalidOrg("That link is too long to be an Azure DevOps organization URL.")
	}
	// Teams wraps pasted links in angle brackets.
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return Org{}, invalidOrg("Please give your Azure DevOps organization URL, for example https://dev.azure.com/fabrikam.")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\\' || r == ' ' || r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\ufeff' || r == '\u200b' {
			return Org{}, invalidOrg("That organization URL contains characters that are not allowed (spaces, backslashes or control characters).")
		}
	}

	rest, ok := cutSchemePrefix(s)
	if !ok {
		return Org{}, invalidOrg("Only https:// links to dev.azure.com or *.visualstudio.com are accepted.")
	}
	if rest == s && !strings.Contains(s, "/") && !strings.Contains(s, ".") && !strings.Contains(s, ":") && !strings.Contains(s, "@") {
		// A bare organization name.
		if !ValidOrgName(s) {
			return Org{}, invalidOrg(orgNameRule)
		}
		name := strings.ToLower(s)
		return Org{Name: name, URL: "https://dev.azure.com/" + name}, nil
	}

	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	host, err := orgHost(authority)
	if err != nil {
		return Org{}, err
	}

	service, onDev := strings.CutSuffix(host, ".dev.azure.com")
	switch {
	case host == "dev.azure.com" || onDev && serviceHost[service]:
		seg := path
		if strings.HasPrefix(seg, "/") {
			seg = seg[1:]
		} else {
			seg = ""
		}
		if i := strings.IndexAny(seg, "/?#"); i >= 0 {
			seg = seg[:i]
		}
		if seg == "" {
			return Org{}, invalidOrg("The link has no organization name; it should look like https://dev.azure.com/fabrikam.")
		}
		if !ValidOrgName(seg) {
			return Org{}, invalidOrg(orgNameRule)
		}
		name := strings.ToLower(seg)
		return Org{Name: name, URL: "https://dev.azure.com/" + name}, nil
	case strings.HasSuffix(host, ".visualstudio.com"):
		label := strings.TrimSuffix(host, ".visualstudio.com")
		// {org}.vsrm.visualstudio.com and friends are the same organization's
		// service hosts, as pkgs.dev.azure.com/{org} is on the new domain.
		if org, svc, ok := strings.Cut(label, "."); ok && serviceHost[svc] {
			label = org
		}
		if strings.Contains(label, ".") || !ValidOrgName(label) || reservedLegacyLabel[label] {
			return Org{}, invalidOrg("That is not an Azure DevOps organization host.")
		}
		return Org{Name: label, URL: "https://" + label + ".visualstudio.com"}, nil
	default:
		return Org{}, invalidOrg("Only Azure DevOps Services links (https://dev.azure.com/... or https://....visualstudio.com) are accepted.")
	}
}

// orgHost checks the authority of a pasted link and returns its host in lower
// case, without the default port and without the trailing dot of a fully
// qualified name (dev.azure.com. is dev.azure.com).
//
// A non-ASCII host is refused before anything is folded: Unicode case mapping
// turns look-alikes into ASCII (the Kelvin sign into k, the dotted capital İ
// into i), so folding first would accept a host the user never typed and send
// their token on the strength of it. Real Azure DevOps hosts are plain ASCII.
func orgHost(authority string) (string, error) {
	if strings.ContainsAny(authority, "@") {
		return "", invalidOrg("Links with a user name or password in them are not accepted.")
	}
	if !isASCII(authority) {
		return "", invalidOrg("Azure DevOps host names are written in plain letters (a-z), and this one has other characters, some of which only look like plain letters. Type the address yourself, for example https://dev.azure.com/fabrikam.")
	}
	if strings.ContainsAny(authority, "%[]") {
		return "", invalidOrg("That is not an Azure DevOps host.")
	}
	host, port, hasPort := strings.Cut(authority, ":")
	// 443 is what https means anyway; any other port is not Azure DevOps.
	if hasPort && port != "443" {
		return "", invalidOrg("Links with a port number are not accepted; use the plain https://dev.azure.com/... address.")
	}
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(host), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// serviceHost are the service prefixes of an organization's own hosts:
// vssps.dev.azure.com/{org} (identities), vsrm.dev.azure.com/{org} (releases),
// pkgs.dev.azure.com/{org} (package feeds), and their legacy forms
// {org}.vssps.visualstudio.com, {org}.vsrm.visualstudio.com, {org}.pkgs.visualstudio.com.
var serviceHost = map[string]bool{"vssps": true, "vsrm": true, "pkgs": true}

// reservedLegacyLabel are *.visualstudio.com hosts that belong to the service,
// not to an organization.
var reservedLegacyLabel = map[string]bool{"app": true, "vssps": true, "www": true, "marketplace": true, "aex": true, "vsrm": true, "vsaex": true, "status": true}

// cutSchemePrefix returns what follows "https://". Input without a scheme is
// returned unchanged (people paste dev.azure.com/fabrikam); any other scheme fails.
func cutSchemePrefix(s string) (string, bool) {
	if i := strings.Index(s, "://"); i >= 0 {
		// Not EqualFold: Unicode folding would take "httpſ" (long s) for https.
		if !isASCII(s[:i]) || strings.ToLower(s[:i]) != "https" {
			return "", false
		}
		return s[i+3:], true
	}
	// "http:/x", "javascript:..." and friends: a colon before any slash is a scheme.
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if j := strings.IndexByte(s, '/'); j < 0 || i < j {
			return "", false
		}
	}
	if strings.HasPrefix(s, "//") {
		return "", false
	}
	return s, true
}

const orgNameRule = "That is not a valid organization name: use 1 to 50 letters, digits or hyphens, not starting or ending with a hyphen."

// ValidOrgName applies Azure DevOps' organization naming rule.
func ValidOrgName(s string) bool {
	if len(s) < 1 || len(s) > 50 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func invalidOrg(msg string) error { return apperr.New(apperr.Invalid, msg) }
