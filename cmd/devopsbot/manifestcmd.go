package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sally-devops/devopsbot/manifest"
)

// writeManifest builds the Teams app package from CLIENT_ID and PUBLIC_URL.
func writeManifest(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "sally-devops.zip", "where to write the app package")
	meetings := fs.Bool("meetings", false, "ask for the meeting permissions (OnlineMeeting.ReadBasic.Chat, ChannelMeeting.ReadBasic.Group, OnlineMeetingTranscript.Read.Chat) for automatic meeting summaries")
	rsc := fs.Bool("chat-read", false, "ask for ChatMessage.Read.Chat so pasted summaries work in group chats without an @mention")
	version := fs.String("version", "1.0.0", "app version (semver)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c := manifest.Config{AppID: getenv("CLIENT_ID"), PublicURL: getenv("PUBLIC_URL"), Version: *version, ChatMessageReadRSC: *rsc, MeetingSummaries: *meetings}
	var buf bytes.Buffer
	if err := manifest.WriteZip(&buf, c); err != nil {
		fmt.Fprintln(stderr, "devopsbot manifest:", err)
		return 1
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "devopsbot manifest:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): upload it in Teams > Apps > Manage your apps > Upload an app\n", *out, buf.Len())
	return 0
}
