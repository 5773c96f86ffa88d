package cards

import (
	"net/url"
	"strings"
)

const orgURLHint = "Paste only your organization's base URL. For example, https://dev.azure.com/fabrikam/ProjectX/\\_git/WebPortal/pullrequest/860 becomes https://dev.azure.com/fabrikam."

func orgURLInput(value string) map[string]any {
	return input(InputOrgURL, "Azure DevOps organization URL", "Enter your organization's URL, such as https://dev.azure.com/your-org.", value, true,
		map[string]any{"placeholder": "https://dev.azure.com/your-org", "style": "Url", "maxLength": 500})
}

// ConnectView is the first connect step: which organization.
type ConnectView struct {
	Demo   bool
	OrgURL string // what the user typed, kept on error
	Error  string // why that URL was refused
}

// ConnectPrompt asks for the organization URL. It uses Action.Execute so the
// next step can answer with a sign-in (loginRequest) in place.
func ConnectPrompt(v ConnectView) Card {
	body := []any{heading("Connect Azure DevOps"),
		text("Work items and comments are created with your own Azure DevOps account. First, tell me your organization.")}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	body = append(body, orgURLInput(v.OrgURL), text(orgURLHint, "isSubtle", "true", "spacing", "Small"))
	return newCard(Version, v.Demo, body, withAssociated(execute("Continue", VerbConnectOrg, map[string]any{DataVerb: VerbConnectOrg}), "auto"))
}

// SignInView is the second connect step: sign in to that organization.
type SignInView struct {
	Demo   bool
	Org    string // "fabrikam"
	OrgURL string // "https://dev.azure.com/fabrikam"
	Error  string // e.g. the code was wrong or expired
	// SignInURL, when set, makes "Sign in" open that page in the browser
	// instead of asking Teams for its sign-in pop-up (a loginRequest), for
	// clients that cannot open the pop-up (the Agents Playground).
	SignInURL string
}

// ConnectSignIn offers the sign-in and, for clients where the pop-up cannot
// hand the code back, a field for the code the sign-in page shows.
func ConnectSignIn(v SignInView) Card {
	body := []any{heading("Sign in to Azure DevOps"), text(orgLine(v.Org, v.OrgURL))}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	// "none": the code field below is required, and an action that gathers
	// it would not even send the sign-in request while it is empty.
	signIn := withAssociated(execute("Sign in", VerbConnectSignIn, map[string]any{DataVerb: VerbConnectSignIn, DataOrg: v.OrgURL}), "none")
	if isHTTPS(v.SignInURL) || isLoopbackHTTP(v.SignInURL) {
		signIn = openURL("Sign in", v.SignInURL)
	}
	body = append(body,
		actionSet(signIn),
		text("The sign-in link works once, for 10 minutes.", "isSubtle", "true", "spacing", "Small"),
		text("If the sign-in page shows you a code instead of closing, paste it here:", "spacing", "Large"),
		input(InputCode, "Code from the sign-in page", "Paste the code the sign-in page showed.", "", true, map[string]any{"maxLength": 200}),
		// The organization travels with the code so a wrong code keeps it.
		actionSet(withAssociated(execute("Finish connecting", VerbConnectCode, map[string]any{DataVerb: VerbConnectCode, DataOrg: v.OrgURL}), "auto")),
	)
	return newCard(Version, v.Demo, body)
}

// DialogConnectView is the connect step shown inside a dialog to someone who
// opened a form before connecting; Next says which form to show afterwards.
type DialogConnectView struct {
	Demo      bool
	SummaryID string
	InsightID string
	Next      string // the form to open afterwards: VerbCreate or VerbComment
	OrgURL    string
	Error     string
	SignInURL string // set for the second step
	Org       string
}

// DialogConnect asks for the organization inside a dialog. Dialogs cannot
// answer Action.Execute with a loginRequest, so the steps use Action.Submit
// and an Action.OpenUrl sign-in link.
func DialogConnect(v DialogConnectView) Card {
	body := []any{heading("Connect Azure DevOps first"),
		text("To create work items and comments with your own account, connect your Azure DevOps organization.")}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	body = append(body, orgURLInput(v.OrgURL), text(orgURLHint, "isSubtle", "true", "spacing", "Small"))
	return newCard(Version, v.Demo, body, submit("Continue", dialogData(v, VerbDialogConnect)))
}

// DialogSignIn is the dialog's sign-in step: open the link, then paste the code.
func DialogSignIn(v DialogConnectView) Card {
	body := []any{heading("Sign in to Azure DevOps"), text(orgLine(v.Org, v.OrgURL))}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	if isHTTPS(v.SignInURL) || isLoopbackHTTP(v.SignInURL) {
		body = append(body, actionSet(openURL("Sign in", v.SignInURL)))
	}
	body = append(body,
		text("The sign-in link works once, for 10 minutes. After signing in, paste the code the page shows:", "isSubtle", "true"),
		input(InputCode, "Code from the sign-in page", "Paste the code the sign-in page showed.", "", true, map[string]any{"maxLength": 200}),
	)
	return newCard(Version, v.Demo, body, submit("Finish connecting", dialogData(v, VerbDialogCode)))
}

func dialogData(v DialogConnectView, verb string) map[string]any {
	return map[string]any{DataVerb: verb, DataSummaryID: v.SummaryID, DataInsightID: v.InsightID, DataNext: v.Next}
}

func orgLine(org, orgURL string) string {
	if org == "" {
		org = orgName(orgURL)
	}
	return "Organization: " + Escape(org) + " (" + Escape(orgURL) + ")"
}

// orgName is the last path segment (dev.azure.com/fabrikam) or the host's first
// label (fabrikam.visualstudio.com).
func orgName(orgURL string) string {
	u, err := url.Parse(orgURL)
	if err != nil {
		return orgURL
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		return p
	}
	host, _, _ := strings.Cut(u.Hostname(), ".")
	return host
}

// Connected confirms the connection.
func Connected(org, name, email string) Card {
	who := Escape(name)
	if email != "" {
		who += " (" + Escape(email) + ")"
	}
	return newCard(Version, false, []any{heading("Connected to Azure DevOps"),
		text("Organization: " + Escape(org)),
		text("Signed in as " + who),
		text("Open a meeting summary and choose \"Create work item\" or \"Add comment\" on any insight.", "isSubtle", "true"),
	})
}

// Reconnect tells the user their sign-in expired or was revoked; orgURL is the
// organization's base URL, sent back with the VerbConnectSignIn action.
func Reconnect(orgURL string) Card {
	return newCard(Version, false, []any{heading("Please sign in again"),
		text("Your Azure DevOps sign-in for " + Escape(orgURL) + " has expired or was revoked. Your form is kept; sign in again and retry."),
	}, withAssociated(execute("Sign in again", VerbConnectSignIn, map[string]any{DataVerb: VerbConnectSignIn, DataOrg: orgURL}), "none"))
}
