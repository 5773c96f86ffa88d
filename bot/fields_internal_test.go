package bot

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
)

func TestMeetingLinkOnlyTeamsHTTPS(t *testing.T) {
	ok := []string{
		"https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d",
		"https://TEAMS.microsoft.com/l/meetingrecap?threadId=19:x",
		"https://teams.live.com/meet/9312345",
		"https://gov.teams.microsoft.us/l/meetup-join/x",
	}
	for _, s := range ok {
		if got, present := meetingLink(devopsbot.Meeting{JoinURL: s}); got != s || !present {
			t.Errorf("meetingLink(%q) = %q, %v; want it linked", s, got, present)
		}
	}
	refused := []string{
		"http://teams.microsoft.com/l/meetup-join/x",
		"https://teams.microsoft.com.evil.example/l/meetup-join/x",
		"https://evil.example/teams.microsoft.com/x",
		"https://teams.microsoft.com@evil.example/x",
		"https://user:pw@teams.microsoft.com/x",
		"https://teams.microsoft.com:8443/x",
		"javascript:alert(1)//teams.microsoft.com",
		"https://teams.microsoft.com/l/x\nSet-Cookie: a=b",
		"https://teams.microsoft.com/l/ x",
		"https:teams.microsoft.com/x",
		"//teams.microsoft.com/x",
	}
	for _, s := range refused {
		if got, present := meetingLink(devopsbot.Meeting{JoinURL: s}); got != "" || !present {
			t.Errorf("meetingLink(%q) = %q, %v; want it refused (and noticed)", s, got, present)
		}
	}
	if got, present := meetingLink(devopsbot.Meeting{}); got != "" || present {
		t.Errorf("no link: %q, %v", got, present)
	}
}

func FuzzMeetingLink(f *testing.F) {
	for _, s := range []string{"https://teams.microsoft.com/l/meetup-join/x", "https://a@teams.microsoft.com/", "http://x", "https://teams.live.com:443/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := meetingLink(devopsbot.Meeting{JoinURL: s})
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "https" || u.User != nil || !slices.Contains(teamsHosts, strings.ToLower(u.Host)) {
			t.Fatalf("meetingLink(%q) passed %q, which is not an https link to a Teams host", s, got)
		}
	})
}
