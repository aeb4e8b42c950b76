package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/directory"
)

func init() {
	register(command{
		name:    "anchor",
		summary: "read one user from Active Directory and print its source anchors",
		run:     runAnchor,
	})
}

// stringList collects a repeatable flag that also takes comma-separated
// values.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type anchorOutput struct {
	DN                     string       `json:"dn"`
	SAMAccountName         string       `json:"sAMAccountName"`
	UserPrincipalName      string       `json:"userPrincipalName,omitempty"`
	Mail                   string       `json:"mail,omitempty"`
	ProxyAddresses         []string     `json:"proxyAddresses,omitempty"`
	Disabled               bool         `json:"disabled"`
	AdminCount             int          `json:"adminCount"`
	ObjectGUID             AnchorForms  `json:"objectGUID"`
	ConsistencyGUID        *AnchorForms `json:"mS-DS-ConsistencyGuid,omitempty"`
	InvalidConsistencyGUID string       `json:"invalidConsistencyGuidHex,omitempty"`
	AnchorAttribute        string       `json:"anchorAttribute"`
	SourceAnchor           *AnchorForms `json:"sourceAnchor,omitempty"`
	SourceAnchorError      string       `json:"sourceAnchorError,omitempty"`
}

func runAnchor(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("anchor", "--url URL --bind-dn DN --password-file FILE [--ca-file FILE] (--sam NAME | --upn UPN | --dn DN | --guid GUID | --mail ADDRESS)")
	var urls stringList
	fs.Var(&urls, "url", "directory URL, ldaps://host[:636] or ldap://host[:389] with --start-tls; repeat or comma-separate for failover")
	baseDN := fs.String("base-dn", "", "where to search (default: the domain's naming context)")
	bindDN := fs.String("bind-dn", "", "account to bind as: DN, UPN or DOMAIN\\name")
	passwordFile := fs.String("password-file", "", "file holding the bind password ('-' reads standard input)")
	caFile := fs.String("ca-file", "", "PEM file of the CA(s) that issued the DC certificates (default: system roots)")
	startTLS := fs.Bool("start-tls", false, "upgrade an ldap:// connection with StartTLS")
	serverName := fs.String("tls-server-name", "", "name to check in the DC certificate instead of the URL's host")
	insecure := fs.Bool("insecure-skip-tls-verify", false, "do not verify the DC certificate (lab use only)")
	timeout := fs.Duration("timeout", 15*time.Second, "timeout for connecting and for each request")
	mode := fs.String("anchor-attribute", directory.AnchorAuto, "source anchor attribute: Auto, objectGUID or mS-DS-ConsistencyGuid")
	output := fs.String("o", "text", "output format: text, json or yaml")
	keys := []struct {
		flag string
		key  directory.Key
		help string
	}{
		{"sam", directory.KeySAMAccountName, "find the user by sAMAccountName"},
		{"upn", directory.KeyUserPrincipalName, "find the user by userPrincipalName"},
		{"dn", directory.KeyDistinguishedName, "find the user by distinguished name"},
		{"guid", directory.KeyObjectGUID, "find the user by objectGUID (GUID, immutableId or hex)"},
		{"mail", directory.KeyMail, "find the user by mail or SMTP proxy address"},
	}
	values := make([]*string, len(keys))
	for i, k := range keys {
		values[i] = fs.String(k.flag, "", k.help)
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	var lookup directory.Lookup
	for i, k := range keys {
		if *values[i] == "" {
			continue
		}
		if lookup.By != "" {
			return usagef("give exactly one of --sam, --upn, --dn, --guid, --mail")
		}
		lookup = directory.Lookup{By: k.key, Value: *values[i]}
	}
	if lookup.By == "" {
		return usagef("give one of --sam, --upn, --dn, --guid, --mail")
	}
	if len(urls) == 0 || *bindDN == "" || *passwordFile == "" {
		return usagef("--url, --bind-dn and --password-file are required")
	}
	canonical, err := directory.ParseAnchorMode(*mode)
	if err != nil {
		return usagef("--anchor-attribute: %v", err)
	}
	password, err := readSecret(*passwordFile, e.stdin)
	if err != nil {
		return err
	}
	cfg := directory.Config{
		URLs: urls, BaseDN: *baseDN, BindDN: *bindDN, Password: password,
		StartTLS: *startTLS, ServerName: *serverName, InsecureSkipVerify: *insecure, Timeout: *timeout,
	}
	if *caFile != "" {
		if cfg.CAPEM, err = os.ReadFile(*caFile); err != nil {
			return fmt.Errorf("reading the CA file: %w", err)
		}
	}
	if *insecure {
		fmt.Fprintln(e.stderr, "warning: the DC certificate is not verified; anyone on the path can read the password")
	}
	client, err := directory.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	user, err := client.FindUser(ctx, lookup)
	if err != nil {
		return err
	}
	out := anchorReport(user, canonical)
	if *output != "text" {
		return writeStructured(e.stdout, *output, out)
	}
	return writeAnchorText(e.stdout, out)
}

// readSecret reads a password from a file (or stdin for "-"), dropping the
// line ending that editors and echo add.
func readSecret(path string, stdin io.Reader) (string, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, 1<<16))
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	s := strings.TrimRight(string(raw), "\r\n")
	if s == "" {
		return "", errors.New("the password file is empty")
	}
	return s, nil
}

func anchorReport(u directory.User, mode string) anchorOutput {
	out := anchorOutput{
		DN: u.DN, SAMAccountName: u.SAMAccountName, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail,
		ProxyAddresses: u.ProxyAddresses, Disabled: u.Disabled, AdminCount: u.AdminCount,
		ObjectGUID: formsOf(u.ObjectGUID), AnchorAttribute: mode,
	}
	if u.ConsistencyGUID != nil {
		f := formsOf(*u.ConsistencyGUID)
		out.ConsistencyGUID = &f
	}
	if u.InvalidConsistencyGUID != nil {
		out.InvalidConsistencyGUID = fmt.Sprintf("%X", u.InvalidConsistencyGUID)
	}
	if a, err := directory.SourceAnchor(u, mode); err != nil {
		out.SourceAnchorError = err.Error()
	} else {
		f := formsOf(a)
		out.SourceAnchor = &f
	}
	return out
}

func writeAnchorText(w io.Writer, out anchorOutput) error {
	rows := [][2]string{
		{"DN", out.DN},
		{"sAMAccountName", out.SAMAccountName},
		{"userPrincipalName", out.UserPrincipalName},
		{"mail", out.Mail},
		{"proxyAddresses", strings.Join(out.ProxyAddresses, " ")},
		{"disabled", strconv.FormatBool(out.Disabled)},
		{"adminCount", strconv.Itoa(out.AdminCount)},
	}
	rows = append(rows, out.ObjectGUID.rows("objectGUID ")...)
	switch {
	case out.ConsistencyGUID != nil:
		rows = append(rows, out.ConsistencyGUID.rows("mS-DS-ConsistencyGuid ")...)
	case out.InvalidConsistencyGUID != "":
		rows = append(rows, [2]string{"mS-DS-ConsistencyGuid", "not a GUID: " + out.InvalidConsistencyGUID})
	default:
		rows = append(rows, [2]string{"mS-DS-ConsistencyGuid", "(empty)"})
	}
	if out.SourceAnchor != nil {
		rows = append(rows,
			[2]string{"source anchor (" + out.AnchorAttribute + ")", out.SourceAnchor.GUID},
			[2]string{"onPremisesImmutableId", out.SourceAnchor.ImmutableID})
	} else {
		rows = append(rows, [2]string{"source anchor (" + out.AnchorAttribute + ")", "none: " + out.SourceAnchorError})
	}
	return writeRows(w, rows)
}

var _ flag.Value = (*stringList)(nil)
