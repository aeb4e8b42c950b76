package entra

import (
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// Export plays one sync cycle in em over the AD objects, exported as
// SyncObject says; the results come in the objects' order.
func Export(em *emulator.Server, objs []directory.Object, mode string) ([]emulator.SyncResult, error) {
	req := emulator.SyncRequest{}
	for _, o := range objs {
		so, err := SyncObject(o, mode)
		if err != nil {
			return nil, err
		}
		req.Objects = append(req.Objects, so)
	}
	resp, err := em.Sync(req)
	return resp.Results, err
}

// SyncObject is what Entra Connect exports for an AD object, for feeding the
// emulated sync in tests: the anchor it picks (mode as ActiveDirectory's
// anchorAttribute), names and addresses, the object identifier of a user,
// whether a group has mail.
func SyncObject(o directory.Object, mode string) (emulator.SyncObject, error) {
	a, err := directory.ExportAnchor(o, mode)
	if err != nil {
		return emulator.SyncObject{}, err
	}
	so := emulator.SyncObject{Type: string(o.Kind), SourceAnchor: a.ImmutableID(), UserPrincipalName: o.UserPrincipalName, Mail: o.Mail,
		MailNickname: o.MailNickname, ProxyAddresses: o.ProxyAddresses, OnPremisesDistinguishedName: o.DN, OnPremisesSamAccountName: o.SAMAccountName}
	switch o.Kind {
	case directory.KindUser:
		so.OnPremisesObjectIdentifier = o.ObjectGUID.GUID()
	case directory.KindGroup:
		me := o.MailEnabled()
		so.MailEnabled = &me
	}
	return so, nil
}
