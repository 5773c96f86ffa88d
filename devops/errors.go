package devops

import (
	"regexp"
	"strings"
)

// codePrefix finds the code Azure DevOps puts before its messages
// ("TF401347: Invalid tree name…", "VS403403: …").
var codePrefix = regexp.MustCompile(`^((?:TF|VS)[0-9]{3,9}):\s*`)

// plainMessage turns an Azure DevOps error message into words for a person and
// the code apart, for small print: a raw "TF401347: Invalid tree name given for
// work item -1, field 'System.AreaPath'" means nothing to someone who picked an
// area from a list that has since changed.
func plainMessage(raw string) (msg, code string) {
	msg = userText(raw)
	if m := codePrefix.FindStringSubmatch(msg); m != nil {
		code = m[1]
		msg = strings.TrimSpace(msg[len(m[0]):])
	}
	switch code {
	case "TF401347": // invalid tree name: an area or iteration that no longer exists
		what := "area or iteration"
		switch {
		case strings.Contains(msg, "AreaPath"):
			what = "area"
		case strings.Contains(msg, "IterationPath"):
			what = "iteration"
		}
		return "The " + what + " you chose does not exist in this project any more. Choose another " + what + " and try again.", code
	case "TF401320": // a process rule: a required field this form does not fill
		if f := ruleField.FindStringSubmatch(msg); f != nil {
			return "This project's rules need a valid value for the field \"" + f[1] + "\". Change it and try again; if the form has no such field, ask a project administrator.", code
		}
		return "This project's rules refused the work item: " + msg, code
	case "TF401232", "TF26198":
		return "That work item does not exist, or you can't see it.", code
	case "TF400813":
		return "Your account is not allowed in this organization. Sign in with an account of the organization's own directory.", code
	}
	return msg, code
}

var ruleField = regexp.MustCompile(`Rule Error for field ([^.]{1,80})\.`)
