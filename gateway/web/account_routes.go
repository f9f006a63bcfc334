package web

import "net/http"

// accountRoutes adds the pages of a person's settings and of the node's
// administration. Every change is a POST form with the visitor's CSRF
// token (a.page checks it); each handler requires the action it needs.
func (a *App) accountRoutes(mux *http.ServeMux) {
	if a.svc.Settings != nil {
		mux.HandleFunc("GET /settings", a.page(a.settings))
		mux.HandleFunc("POST /settings/profile", a.page(a.saveProfile))
		mux.HandleFunc("POST /settings/language", a.page(a.saveLanguage))
		mux.HandleFunc("POST /settings/password", a.page(a.changePassword))
		mux.HandleFunc("POST /settings/tokens", a.page(a.createToken))
		mux.HandleFunc("POST /settings/tokens/{id}/revoke", a.page(a.revokeToken))
		if a.svc.OAuth != nil {
			mux.HandleFunc("POST /settings/moodle/{id}/revoke", a.page(a.revokeMoodle))
		}
		if a.svc.People != nil && a.svc.Files != nil {
			mux.HandleFunc("POST /settings/avatar", a.page(a.uploadAvatar))
			mux.HandleFunc("POST /settings/avatar/remove", a.page(a.removeAvatar))
		}
	}
	if a.svc.OAuth != nil {
		mux.HandleFunc("GET /oauth/authorize", a.page(a.consentForm))
		mux.HandleFunc("POST /oauth/authorize", a.page(a.consent))
	}
	if a.svc.Admin != nil {
		mux.HandleFunc("GET /admin", a.page(a.adminHome))
		mux.HandleFunc("GET /admin/accounts", a.page(a.adminAccounts))
		mux.HandleFunc("POST /admin/accounts/{username}/approve", a.page(a.approveAccount()))
		mux.HandleFunc("POST /admin/accounts/{username}/reject", a.page(a.rejectAccount()))
		mux.HandleFunc("POST /admin/accounts/{username}/role", a.page(a.setAccountRole()))
		mux.HandleFunc("POST /admin/accounts/{username}/disable", a.page(a.disableAccount()))
		mux.HandleFunc("POST /admin/accounts/{username}/enable", a.page(a.enableAccount()))
		mux.HandleFunc("GET /admin/registration", a.page(a.adminRegistration))
		mux.HandleFunc("POST /admin/registration", a.page(a.setRegistrationMode))
		mux.HandleFunc("POST /admin/invitations", a.page(a.createInvitation))
		mux.HandleFunc("POST /admin/invitations/{id}/revoke", a.page(a.revokeInvitation))
	}
}
