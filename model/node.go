package model

// Node is anything with a global id (DESIGN §4): node(id:) finds it by the id's prefix.
type Node interface{ IsNode() }

// IsNode marks Organization as a Node.
func (*Organization) IsNode() {}

// IsNode marks Company as a Node.
func (*Company) IsNode() {}

// IsNode marks User as a Node.
func (*User) IsNode() {}

// IsNode marks Project as a Node.
func (*Project) IsNode() {}

// IsNode marks Phase as a Node.
func (*Phase) IsNode() {}

// IsNode marks Task as a Node.
func (*Task) IsNode() {}

// IsNode marks TaskData as a Node.
func (*TaskData) IsNode() {}

// IsNode marks Event as a Node.
func (*Event) IsNode() {}

// IsNode marks Webhook as a Node.
func (*Webhook) IsNode() {}

// IsNode marks WebhookDelivery as a Node.
func (*WebhookDelivery) IsNode() {}
