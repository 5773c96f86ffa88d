package devopsbot

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// What an id may be. Ids come from the network (Teams, senders, card data) and
// end up in stored keys, so every store refuses the same ones with the same
// message; these are those rules, which each store applies where an id enters.

// MaxIDLen bounds every id a store keeps or looks up.
const MaxIDLen = 512

// CheckID refuses ids that are empty, huge, not UTF-8, or carry control
// characters or '|' (the separator of keys made of two ids); what names the id
// in the message.
func CheckID(what, v string) error {
	if v == "" {
		return apperr.New(apperr.Invalid, "The "+what+" is missing.")
	}
	if len(v) > MaxIDLen || !utf8.ValidString(v) || strings.ContainsRune(v, '|') ||
		strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return apperr.New(apperr.Invalid, "The "+what+" is not valid.")
	}
	return nil
}

// CheckConversationID accepts Teams conversation ids, which contain ':', '@',
// ';' and '|'.
func CheckConversationID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return apperr.New(apperr.Invalid, "The conversation id is not valid.")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return apperr.New(apperr.Invalid, "The conversation id is not valid.")
		}
	}
	return nil
}

// CheckUser refuses a user key either of whose ids CheckID refuses.
func CheckUser(u UserKey) error {
	if err := CheckID("tenant id", u.TenantID); err != nil {
		return err
	}
	return CheckID("user id", u.AADObjectID)
}

// CheckAction refuses an action key no store keeps: a summary or insight id
// missing or too long, a create with a target or a comment without one.
func CheckAction(k ActionKey) error {
	if k.SummaryID == "" || len(k.SummaryID) > MaxIDLen || k.InsightID == "" || len(k.InsightID) > MaxIDLen ||
		len(k.Target) > MaxIDLen {
		return apperr.New(apperr.Invalid, "That action is not valid.")
	}
	switch {
	case k.Action == ActionCreate && k.Target == "":
	case k.Action == ActionComment && k.Target != "":
	default:
		return apperr.New(apperr.Invalid, "That action is not valid.")
	}
	return nil
}

// ErrSignInExpired is what consuming an OAuth state or a pending sign-in
// past its window answers (the record is removed all the same).
var ErrSignInExpired = apperr.New(apperr.Invalid, "This sign-in link has expired. Please start again.")

// CheckOAuthState refuses a sign-in state no store keeps: none, or one whose
// id (the OAuth state parameter, given by then) or user CheckID refuses.
func CheckOAuthState(st *OAuthState) error {
	if st == nil {
		return apperr.New(apperr.Invalid, "No sign-in state to save.")
	}
	if err := CheckID("sign-in state", st.ID); err != nil {
		return err
	}
	return CheckUser(st.User)
}

// MaxLoginCodeLen bounds a one-time sign-in code, which arrives from a card
// invoke or a chat message.
const MaxLoginCodeLen = 1024

// CheckPendingLogin refuses a finished sign-in no store keeps: none, a code
// shorter than 16 characters (it must not be guessable from its hash) or
// longer than MaxLoginCodeLen, or a user CheckUser refuses.
func CheckPendingLogin(p *PendingLogin) error {
	if p == nil {
		return apperr.New(apperr.Invalid, "No pending sign-in to save.")
	}
	if len(p.Code) < 16 || len(p.Code) > MaxLoginCodeLen {
		return apperr.New(apperr.Invalid, "The sign-in code must be at least 16 characters.")
	}
	return CheckUser(p.User)
}
