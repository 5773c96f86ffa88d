package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// responsible is what the create form offers for "Responsible user".
type responsible struct {
	people   []devops.Identity // the project's team members, plus whoever the owner matched
	selected string            // a UniqueName among people; "" preselects nobody
	note     string            // shown under the field: who was matched and why, or that nobody was
}

// maxAmbiguousOffered bounds how many equally likely people from an
// organization search join the choices.
const maxAmbiguousOffered = 10

// responsibleFor matches the insight's owner to a person: first among the
// project's team members (every team, which vso.project covers), and only when
// nobody there fits, among the organization's people (only when the
// deployment asks for vso.identity and the user granted it). kept is what the
// user chose before a reload or a failed attempt; it wins when still offered.
//
// When the insight names an owner and nobody matches with confidence, nobody
// is preselected: the field is required, so the person creating the item must
// choose, instead of work silently landing on the first member or on
// themselves.
func (b *Bot) responsibleFor(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, members []devops.Identity, kept string) responsible {
	r := responsible{}
	for _, m := range members {
		if m.UniqueName != "" {
			r.people = append(r.people, m)
		}
	}
	offered := func(unique string) string {
		for _, p := range r.people {
			if unique != "" && strings.EqualFold(p.UniqueName, unique) {
				return p.UniqueName
			}
		}
		return ""
	}
	owner := ownerText(ac.insight.Owner)
	if owner == "" {
		// No owner named: an unowned insight is most often picked up by the
		// person clicking, so the connected user is preselected when they are a
		// member (as before). Nobody else is guessed.
		r.selected = cmp.Or(offered(kept), offered(conn.UniqueName))
		return r
	}
	m := matchPerson(r.people, owner)
	searched := false
	if !m.Matched() && len(m.Ambiguous) == 0 && b.canSearchPeople(conn) {
		hits, err := b.cfg.Metadata.People(ctx, metadataUser(conn, ac.user), client, searchTerm(owner))
		if err != nil {
			// The team members still make a form; the person chooses.
			teams.Logger(ctx).InfoContext(ctx, "organization people search failed", "kind", apperr.KindOf(err).String())
		} else {
			searched = true
			m = matchPerson(append(slices.Clone(r.people), hits...), owner)
		}
	}
	quoted := `"` + shortOwner(owner) + `"`
	switch {
	case m.Matched():
		r.add(m.Person)
		r.selected = m.Person.UniqueName
		r.note = fmt.Sprintf("Matched %s to the owner %s (%s).", m.Person.DisplayName, quoted, m.Why)
	case len(m.Ambiguous) > 0:
		var names []string
		for i, p := range m.Ambiguous {
			if i < maxAmbiguousOffered {
				r.add(p)
			}
			if i < 3 {
				names = append(names, p.DisplayName)
			}
		}
		if len(m.Ambiguous) > 3 {
			names = append(names, fmt.Sprintf("%d more", len(m.Ambiguous)-3))
		}
		r.note = fmt.Sprintf("More than one person matches the owner %s (%s); choose who is responsible.", quoted, strings.Join(names, ", "))
	case searched:
		r.note = "No one in this project or organization matches the owner " + quoted + "; choose who is responsible."
	default:
		r.note = "No one in this project matches the owner " + quoted + "; choose who is responsible."
	}
	if k := offered(kept); k != "" {
		r.selected = k
	}
	return r
}

// add offers p unless already offered, keeping the list in display-name order.
func (r *responsible) add(p devops.Identity) {
	if p.UniqueName == "" || slices.ContainsFunc(r.people, func(q devops.Identity) bool { return strings.EqualFold(q.UniqueName, p.UniqueName) }) {
		return
	}
	i, _ := slices.BinarySearchFunc(r.people, p, func(a, b devops.Identity) int {
		return strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName))
	})
	r.people = slices.Insert(r.people, i, p)
}

// canSearchPeople: organization-wide search needs vso.identity, which the bot
// asks for only when the deployment enables it (DEVOPS_IDENTITY_SCOPE); a
// connection made before that was enabled lacks the grant, and one made before
// it was disabled keeps it, but the administrator's "off" is respected.
func (b *Bot) canSearchPeople(conn *devopsbot.Connection) bool {
	return b.cfg.OAuth != nil && b.cfg.OAuth.WithIdentity && devops.HasIdentityScope(conn.Scopes)
}

// ownerText is the owner as written, without controls, format characters
// (bidi overrides) or a leading @.
func ownerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(strings.TrimLeft(strings.TrimSpace(s), "@")), " ")
}

// searchTerm is what the organization search looks for: the e-mail when the
// owner carries one ("Isaiah <isaiah.langer@contoso.com>"), else the name.
func searchTerm(owner string) string {
	if i := strings.LastIndexByte(owner, '<'); i >= 0 && strings.HasSuffix(owner, ">") {
		if e := strings.TrimSpace(owner[i+1 : len(owner)-1]); strings.Contains(e, "@") {
			return e
		}
	}
	return owner
}

// shortOwner keeps a pathological owner from filling the form.
func shortOwner(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
