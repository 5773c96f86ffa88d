// Package devops is the bot's Azure DevOps client: organization URL rules, Entra ID
// OAuth settings, the dozen REST calls the bot needs, typed errors, retries and a
// metadata cache. It knows nothing of Teams: callers hand it an organization, a
// token source and plain text, and get back plain Go values or *apperr.Error.
package devops

import (
	"strings"

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
// because that is what people type when asked for their organization.
//
// Everything that is not an Azure DevOps Services host is refused: the bot sends
// the user's token to this URL, so a look-alike host, a port, credentials in the
// URL or an encoded trick would leak it.
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
	if strings.ContainsAny(authority, "@") {
		return Org{}, invalidOrg("Links with a user name or password in them are not accepted.")
	}
	if strings.ContainsAny(authority, "%[]") {
		return Org{}, invalidOrg("That is not an Azure DevOps host.")
	}
	if strings.ContainsAny(authority, ":") {
		return Org{}, invalidOrg("Links with a port number are not accepted; use the plain https://dev.azure.com/... address.")
	}
	host := strings.ToLower(authority)

	switch {
	case host == "dev.azure.com" || host == "vssps.dev.azure.com":
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
		if strings.Contains(label, ".") || !ValidOrgName(label) || reservedLegacyLabel[label] {
			return Org{}, invalidOrg("That is not an Azure DevOps organization host.")
		}
		return Org{Name: label, URL: "https://" + label + ".visualstudio.com"}, nil
	default:
		return Org{}, invalidOrg("Only Azure DevOps Services links (https://dev.azure.com/... or https://....visualstudio.com) are accepted.")
	}
}

// reservedLegacyLabel are *.visualstudio.com hosts that belong to the service,
// not to an organization.
var reservedLegacyLabel = map[string]bool{"app": true, "vssps": true, "www": true, "marketplace": true, "aex": true, "vsrm": true, "vsaex": true, "status": true}

// cutSchemePrefix returns what follows "https://". Input without a scheme is
// returned unchanged (people paste dev.azure.com/fabrikam); any other scheme fails.
func cutSchemePrefix(s string) (string, bool) {
	if i := strings.Index(s, "://"); i >= 0 {
		if !strings.EqualFold(s[:i], "https") {
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
