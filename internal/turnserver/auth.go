package turnserver

import (
	"strconv"
	"strings"
	"time"

	"github.com/pion/turn/v5"

	"classmeet/internal/auth"
)

// authHandler checks the REST-style credentials minted per join
// ("<expiry unix>:<participant>", base64(HMAC-SHA1(secret, username))):
// it recomputes the password and refuses expired usernames. The user id
// TURN counts quotas by is the participant, whatever the expiry. The key
// is made with our realm: a request made for another fails its integrity check.
func (s *Server) authHandler(ra *turn.RequestAttributes) (string, []byte, bool) {
	expiry, participant, ok := strings.Cut(ra.Username, ":")
	if !ok || participant == "" {
		return "", nil, false
	}
	unix, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || !s.now().Before(time.Unix(unix, 0)) {
		s.log.Debug("turn credential refused", "reason", "malformed or expired", "src", ra.SrcAddr)
		return "", nil, false
	}
	password := auth.TURNPassword(s.secret, ra.Username)
	return participant, turn.GenerateAuthKey(ra.Username, s.realm, password), true
}

// Credentials are a participant's TURN username and password, valid for ttl.
func (s *Server) Credentials(participant string, ttl time.Duration) (username, password string) {
	return auth.TURNCredentials(s.secret, participant, ttl, s.now())
}
