package fakead_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/fakead"
)

func Example() {
	dir, err := fakead.New(fakead.Config{Domain: "corp.example.test", AdminPassword: "Adm1n-Passw0rd!"})
	if err != nil {
		log.Fatal(err)
	}
	defer dir.Close()
	guid, _ := fakead.ParseGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	if _, _, err := dir.AddUser(fakead.User{SAMAccountName: "alice", Mail: "alice@contoso.com", ObjectGUID: guid}); err != nil {
		log.Fatal(err)
	}
	if err := dir.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dir.CAPEM())
	conn, err := ldap.DialURL(dir.URL(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(dir.AdminUPN(), "Adm1n-Passw0rd!"); err != nil {
		log.Fatal(err)
	}
	res, err := conn.SearchWithPaging(ldap.NewSearchRequest(dir.BaseDN(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectCategory=person)(objectClass=user)(mail=alice@contoso.com))", []string{"objectGUID"}, nil), 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range res.Entries {
		fmt.Printf("%s % x\n", e.DN, e.GetRawAttributeValue("objectGUID"))
	}
	// Output:
	// CN=alice,CN=Users,DC=corp,DC=example,DC=test 06 96 b3 3a 42 c6 9b 48 84 b6 58 c0 38 d3 ef 39
}
