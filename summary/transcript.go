package summary

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// A meeting transcript arrives from Microsoft Graph as WebVTT: cues with a
// timing line and text, Teams naming the speaker in a voice span
// ("<v Adele Vance>I'll send the budget.</v>"). ParseVTT reads it into cues;
// ExtractTranscript finds what was promised, asked and agreed in them.

// Cue is one WebVTT cue: who spoke (from the voice span) and what they said.
type Cue struct {
	Start   string // the cue's start time as written ("00:01:02.500")
	Speaker string
	Text    string
}

// Limits on a transcript: a long meeting is a few MB; more is not a transcript.
const (
	MaxTranscriptBytes = 8 << 20
	maxCues            = 200000
	maxCueText         = 2000
)

var (
	timingRe = regexp.MustCompile(`^((?:\d{1,3}:)?\d{2}:\d{2}[.,]\d{3})\s+-->\s+((?:\d{1,3}:)?\d{2}:\d{2}[.,]\d{3})(?:\s.*)?$`)
	voiceRe  = regexp.MustCompile(`<v(?:\.[^\s<>]*)?(?:\s+([^<>]*))?>`)
	tagRe    = regexp.MustCompile(`</?[a-zA-Z][^>]*>|<\d[^>]*>|<[^>]*$`) // a "<" that is not escaped opens a tag, closed or not
)

// ParseVTT reads a WebVTT transcript. It is lenient about what Teams and other
// writers vary (a BOM, CRLF, cue ids, cue settings, NOTE/STYLE blocks, other
// tags, entities) and strict about what makes it a transcript: the WEBVTT
// signature and well-formed timing lines. Cues without a voice span keep the
// last speaker of the same cue block, or none.
func ParseVTT(s string) ([]Cue, error) {
	if len(s) > MaxTranscriptBytes {
		return nil, apperr.New(apperr.Invalid, "The transcript is too large (over 8 MB).")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) == 0 || !(lines[0] == "WEBVTT" || strings.HasPrefix(lines[0], "WEBVTT ") || strings.HasPrefix(lines[0], "WEBVTT\t")) {
		return nil, apperr.New(apperr.Invalid, "That is not a WebVTT transcript (it does not start with WEBVTT).")
	}
	var cues []Cue
	i := 1
	for i < len(lines) {
		// Skip the header's remaining lines and blank lines between blocks.
		for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
			i++
		}
		if i >= len(lines) {
			break
		}
		block := i
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
		b := lines[block:i]
		first := strings.TrimSpace(b[0])
		if first == "NOTE" || strings.HasPrefix(first, "NOTE ") || first == "STYLE" || first == "REGION" {
			continue
		}
		t := 0
		if !strings.Contains(first, "-->") {
			t = 1 // a cue identifier
		}
		if t >= len(b) {
			continue // an identifier alone, or header metadata
		}
		m := timingRe.FindStringSubmatch(strings.TrimSpace(b[t]))
		if m == nil {
			if strings.Contains(b[t], "-->") {
				return nil, apperr.New(apperr.Invalid, fmt.Sprintf("The transcript has a malformed cue timing on line %d.", block+t+1))
			}
			continue // header metadata ("Kind: captions")
		}
		if len(cues) >= maxCues {
			return nil, apperr.New(apperr.Invalid, "The transcript has too many cues.")
		}
		speaker, text := "", ""
		for _, l := range b[t+1:] {
			sp, tx := voiceLine(l)
			if sp != "" {
				speaker = sp
			}
			if tx != "" {
				if text != "" {
					text += " "
				}
				text += tx
			}
		}
		if text == "" {
			continue
		}
		cues = append(cues, Cue{Start: m[1], Speaker: speaker, Text: truncateRunes(text, maxCueText)})
	}
	return cues, nil
}

// voiceLine returns a cue line's speaker (its voice span's annotation) and its
// text without tags, entities decoded and spaces collapsed.
func voiceLine(l string) (speaker, text string) {
	if m := voiceRe.FindStringSubmatch(l); m != nil {
		speaker = cleanSpan(m[1])
	}
	text = cleanSpan(tagRe.ReplaceAllString(l, ""))
	return speaker, text
}

func cleanSpan(s string) string {
	s = html.UnescapeString(s)
	s = CleanText(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// utterance is what one speaker said without interruption (consecutive cues
// of the same speaker joined: Teams cuts sentences across cues).
type utterance struct {
	speaker string
	text    string
}

// utterances joins consecutive cues of one speaker, up to 8000 bytes each
// (a monologue is cut there rather than concatenated without bound).
func utterances(cues []Cue) []utterance {
	var out []utterance
	var cur strings.Builder
	speaker, open := "", false
	flush := func() {
		if open {
			out = append(out, utterance{speaker: speaker, text: cur.String()})
		}
		cur.Reset()
	}
	for _, c := range cues {
		if open && speaker == c.Speaker && cur.Len() < 4*maxCueText {
			cur.WriteByte(' ')
			cur.WriteString(c.Text)
			continue
		}
		flush()
		speaker, open = c.Speaker, true
		cur.WriteString(c.Text)
	}
	flush()
	return out
}

var sentenceEndRe = regexp.MustCompile(`([.!?]+)(\s+|$)`)

// sentences splits on ., ! and ? followed by a space; "e.g. " and decimals
// split wrongly sometimes, which costs an item at worst, never invents one.
func sentences(s string) []string {
	var out []string
	last := 0
	for _, m := range sentenceEndRe.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, strings.TrimSpace(s[last:m[3]]))
		last = m[1]
	}
	if rest := strings.TrimSpace(s[last:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// The phrases below are English; they are the transcript's language in most of
// our users' meetings. Each pattern's tail (the work itself) must have a verb
// phrase of at least two words, which keeps "I'll do it." and "Can you?" out.
var (
	// "I'll send the budget", "I will", "I'm going to", "I can take", "let me".
	selfRe = regexp.MustCompile(`(?i)^(?:[^,?]{1,40},\s+)?(?:(?:ok(?:ay)?|so|yes|yeah|sure|right|alright|and|then|fine|great)[,]?\s+)*(?:i'll|i will|i’ll|i'm going to|i am going to|i’m going to|i can take care of|i'll take care of|i’ll take care of|let me|i'll make sure to|i’ll make sure to)\s+(.+)$`)
	// "Priya, can you check the alerts?", "Priya, could you please ...", "Priya, please ...".
	askNamedRe = regexp.MustCompile(`^(?:(?i:ok(?:ay)?|so|and|then|alright)[,]?\s+)?([A-Z][\p{L}'’-]+(?:\s[A-Z][\p{L}'’-]+)?),\s+(?i:(?:can|could|would|will) you\s+(?:please\s+)?|please\s+)(.+?)\??$`)
	// "Can you check the alerts, Priya?"
	askTrailRe = regexp.MustCompile(`^(?i:(?:and\s+)?(?:can|could|would|will) you\s+(?:please\s+)?)(.+?),\s+([A-Z][\p{L}'’-]+(?:\s[A-Z][\p{L}'’-]+)?)\??$`)
	// "Priya will check the alerts", "Priya is going to ...", "Priya to follow up on ...".
	thirdRe = regexp.MustCompile(`^([A-Z][\p{L}'’-]+(?:\s[A-Z][\p{L}'’-]+)?)\s+(?:will|is going to|(?i:to))\s+(.+)$`)
	// "We agreed to ...", "we decided that ...", "the decision is ...", "let's go with ...".
	agreedRe = regexp.MustCompile(`(?i)(?:^|\b)(?:we(?:'ve| have)? agreed (?:to |that |on )?|we(?:'ve| have)? decided (?:to |that |on )?|(?:so )?it's decided[:,]?\s*|the decision is (?:to |that )?|decision:\s*|we're going (?:to go )?with |we are going (?:to go )?with |let's go with |we'll go with )(.+)$`)
	// "Action item: ...", "Next step: ...".
	labelRe = regexp.MustCompile(`(?i)^(action item|action|to do|todo|next step|next steps)\s*[:\-–]\s*(.+)$`)
	// "... by Friday", "... by end of week": a due phrase at the end.
	spokenDueRe = regexp.MustCompile(`(?i)\s+(?:by|before|until)\s+((?:the\s+)?(?:end of (?:the )?(?:day|week|month|sprint)|eod|eow|tomorrow|tonight|next week|(?:next\s+|this\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+\p{L}+|\p{L}+\s+\d{1,2}(?:st|nd|rd|th)?))\s*$`)
)

// notWork are self-statements that sound like promises and are not work.
var notWork = regexp.MustCompile(`(?i)^(?:be\b|know\b|see\b|have to\b|need to leave|leave\b|drop\b|hand (?:it )?(?:back|over) to|stop sharing|share my screen|start|keep (?:it|this) short|let you know if|talk to you|pass\b|just\b|say\b|mention\b|admit\b|repeat\b|get (?:back|out)\b|go (?:first|next|ahead)|think\b|check my\b|mute\b|unmute\b|turn\b|try to remember|explain\b|continue\b|wrap (?:this|it) up|jump\b|skip\b|quickly\b|put it this way|summari[sz]e\b|recap\b|take (?:a|the) (?:look at the )?(?:screen|question)|answer\b)`)

// notSpokenNames are capitalised words that start a sentence without naming anyone.
var notSpokenNames = map[string]bool{"So": true, "Okay": true, "Ok": true, "Well": true, "Yes": true, "No": true, "Alright": true, "Right": true,
	"And": true, "But": true, "Now": true, "Then": true, "Also": true, "Hey": true, "Sorry": true, "Great": true, "Thanks": true,
	"Actually": true, "Anyway": true, "Guys": true, "Everyone": true, "Folks": true, "Team": true, "Somebody": true, "Someone": true,
	"Anyone": true, "Everybody": true, "Nobody": true, "It": true, "This": true, "That": true, "There": true, "We": true, "They": true,
	"He": true, "She": true, "You": true, "I": true, "Which": true, "What": true, "Who": true, "Why": true, "How": true, "When": true,
	"Where": true, "The": true, "A": true, "If": true, "Maybe": true, "Perhaps": true, "Please": true, "Sure": true, "Cool": true,
	"Good": true, "Fine": true, "Next": true, "First": true, "Finally": true, "Also,": true, "Otherwise": true, "Honestly": true}

// okReply is an answer that accepts a request put to nobody in particular.
var okReply = regexp.MustCompile(`(?i)^(?:sure|yes|yeah|yep|ok(?:ay)?|will do|on it|i can do (?:that|it)|i'll do (?:that|it)|i’ll do (?:that|it)|no problem|absolutely|of course)\b`)

// askAnyRe is a request without a name: "Can someone check ...?" "Could you ...?"
var askAnyRe = regexp.MustCompile(`(?i)^(?:(?:and|so|okay|ok),?\s+)?(?:can|could|would) (?:you|someone|somebody|anyone) (?:please )?(.+?)\??$`)

// ExtractTranscript finds action items and decisions in a transcript's cues,
// speaker-aware: "I'll send the budget" is a task for the speaker; "Priya, can
// you check the alerts?" one for Priya; "can someone update the doc?" answered
// "sure" by Ben one for Ben; "we agreed to ship Friday" a decision. Every
// insight is marked Source=SourceTranscript: it is what the bot heard, for
// people to check. Deterministic and local; English phrasing only.
func ExtractTranscript(cues []Cue) []devopsbot.Insight {
	us := utterances(cues)
	var out []devopsbot.Insight
	seen := map[string]bool{}
	add := func(kind devopsbot.Kind, text, owner, due string) {
		text = tidyWork(text)
		if wordCount(text) < 2 || len(out) >= MaxInsights {
			return
		}
		key := string(kind) + "\x00" + strings.ToLower(text) + "\x00" + owner
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, devopsbot.Insight{ID: fmt.Sprintf("tr%d", len(out)+1), Kind: kind, Text: truncateRunes(capitalise(text), MaxInsightText),
			Owner: owner, Due: due, Source: devopsbot.SourceTranscript})
	}
	speakers := map[string]string{} // first name -> full name as the transcript spells it
	for _, u := range us {
		if f := strings.Fields(u.speaker); len(f) > 0 {
			speakers[strings.ToLower(f[0])] = u.speaker
			speakers[strings.ToLower(u.speaker)] = u.speaker
		}
	}
	person := func(name string) (string, bool) {
		first := strings.Fields(name)[0]
		if notSpokenNames[first] {
			return "", false
		}
		if full, ok := speakers[strings.ToLower(name)]; ok {
			return full, true
		}
		if full, ok := speakers[strings.ToLower(first)]; ok && !strings.Contains(name, " ") {
			return full, true
		}
		return name, true // someone named who did not speak
	}
	for ui, u := range us {
		for _, s := range sentences(u.text) {
			s = strings.TrimSpace(s)
			if m := labelRe.FindStringSubmatch(s); m != nil {
				kind := devopsbot.KindTask
				if strings.HasPrefix(strings.ToLower(m[1]), "next") {
					kind = devopsbot.KindNextStep
				}
				work, due := cutSpokenDue(m[2])
				owner := ""
				if w, o, ok := cutForOwner(work); ok {
					if full, ok := person(o); ok {
						work, owner = w, full
					}
				}
				add(kind, work, owner, due)
				continue
			}
			if m := agreedRe.FindStringSubmatch(s); m != nil && !strings.HasSuffix(s, "?") && !negated(s) {
				add(devopsbot.KindDecision, m[1], "", "")
				continue
			}
			if m := askNamedRe.FindStringSubmatch(s); m != nil {
				if owner, ok := person(m[1]); ok && owner != u.speaker {
					work, due := cutSpokenDue(m[2])
					add(devopsbot.KindTask, work, owner, due)
					continue
				}
			}
			if m := askTrailRe.FindStringSubmatch(s); m != nil {
				if owner, ok := person(m[2]); ok && owner != u.speaker {
					work, due := cutSpokenDue(m[1])
					add(devopsbot.KindTask, work, owner, due)
					continue
				}
			}
			if m := askAnyRe.FindStringSubmatch(s); m != nil && strings.HasSuffix(s, "?") && ui+1 < len(us) {
				next := us[ui+1]
				if next.speaker != "" && next.speaker != u.speaker && okReply.MatchString(next.text) {
					work, due := cutSpokenDue(m[1])
					add(devopsbot.KindTask, work, next.speaker, due)
					continue
				}
			}
			if m := selfRe.FindStringSubmatch(s); m != nil && u.speaker != "" && !strings.HasSuffix(s, "?") && !notWork.MatchString(m[1]) && !hedged(s) {
				work, due := cutSpokenDue(m[1])
				add(devopsbot.KindTask, work, u.speaker, due)
				continue
			}
			if m := thirdRe.FindStringSubmatch(s); m != nil && !strings.HasSuffix(s, "?") {
				if owner, ok := person(m[1]); ok && isSpeaker(speakers, owner) && !notWork.MatchString(m[2]) {
					work, due := cutSpokenDue(m[2])
					add(devopsbot.KindTask, work, owner, due)
				}
			}
		}
	}
	return out
}

func isSpeaker(speakers map[string]string, name string) bool {
	_, ok := speakers[strings.ToLower(name)]
	return ok
}

var hedgeRe = regexp.MustCompile(`(?i)\b(?:maybe|probably|i think i'll|i guess|might|if i have time|not sure)\b`)

func hedged(s string) bool { return hedgeRe.MatchString(s) }

var negRe = regexp.MustCompile(`(?i)\b(?:not|haven't|have not|didn't|never|no longer)\b\s+(?:yet\s+)?(?:agreed|decided)`)

func negated(s string) bool { return negRe.MatchString(s) }

var forOwnerRe = regexp.MustCompile(`^(.+?)\s+(?:for|owner:?|assigned to)\s+([A-Z][\p{L}'’-]+(?:\s[A-Z][\p{L}'’-]+)?)$`)

func cutForOwner(s string) (work, owner string, ok bool) {
	m := forOwnerRe.FindStringSubmatch(strings.TrimRight(s, ".!"))
	if m == nil || notSpokenNames[strings.Fields(m[2])[0]] {
		return s, "", false
	}
	return m[1], m[2], true
}

func cutSpokenDue(s string) (work, due string) {
	s = strings.TrimRight(strings.TrimSpace(s), ".!?")
	if m := spokenDueRe.FindStringSubmatchIndex(s); m != nil {
		return s[:m[0]], s[m[2]:m[3]]
	}
	return s, ""
}

var fillerTail = regexp.MustCompile(`(?i)(?:,?\s+(?:okay|ok|right|please|then|as well|too|afterwards|after the (?:call|meeting))\s*)+$`)

// tidyWork makes a spoken phrase read like a work item: no trailing filler or
// punctuation, no leading "to"/"that".
func tidyWork(s string) string {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ".!?,;:"))
	s = fillerTail.ReplaceAllString(s, "")
	for _, p := range []string{"to ", "that ", "also ", "then ", "just "} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
		}
	}
	return strings.TrimSpace(strings.TrimRight(s, ".!?,;:"))
}
