package meeting

import "time"

// audit records that actor did action (to target, if any). A nil actor is
// classmeet itself (automatic admission, say).
func (s *State) audit(fx *effects, now time.Time, actor *participant, action string, target *participant, detail string) {
	a := Audited{At: now, Action: action, Detail: detail, ActorName: "classmeet", ActorRole: "system"}
	if actor != nil {
		a.ActorID, a.ActorName, a.ActorRole = actor.ID, actor.Name, string(actor.role)
	}
	if target != nil {
		a.TargetID, a.TargetName = target.ID, target.Name
	}
	fx.add(a)
}
