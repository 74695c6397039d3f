package seed

// Demo returns a small world that shows every rule of DESIGN §2 and §3 from GraphiQL, with a
// token for each user ("demo-<first name>-token"):
//
//   - Acme, an agency (Acme Studio) with one client (Bluebird Bakery). Ada is the org admin and
//     sees every project; Grace, Alan and Katherine are agency members of some projects; Bea is
//     a client user, who does not see internal phases or their tasks; Ed's access is not
//     approved, so he is FORBIDDEN everything.
//   - Two projects, Bluebird website and Spring outreach, each with an internal phase (only
//     agency members may be assigned there: assigning Bea is NOT_AGENCY_MEMBER) and public ones.
//     Katherine is not a member of the website, so assigning her there is NOT_PROJECT_MEMBER.
//   - Nine tasks of varied types and statuses: unassigned, with one assignee, with two (the first
//     is the primary assignee), one with data and a trigger event.
//   - A second organization, Globex, with its own user and task: for Acme's users they do not
//     exist (NOT_FOUND), and Hank sees nothing of Acme.
func Demo() *World {
	w := demoPeople()
	w.Projects, w.Phases, w.Events = demoProjects()
	w.Tasks = demoTasks()
	return w
}

// demoPeople are the demo world's organizations, companies, users and tokens.
func demoPeople() *World {
	yes, no := true, false
	return &World{
		Organizations: []Organization{
			{ID: "org_acme", Name: "Acme"},
			{ID: "org_globex", Name: "Globex"},
		},
		Companies: []Company{
			{ID: "cmp_acmestudio", OrganizationID: "org_acme", Name: "Acme Studio", Kind: "AGENCY"},
			{ID: "cmp_bluebird", OrganizationID: "org_acme", Name: "Bluebird Bakery", Kind: "CLIENT"},
			{ID: "cmp_globexhq", OrganizationID: "org_globex", Name: "Globex HQ", Kind: "AGENCY"},
		},
		Users: []User{
			{ID: "usr_ada", OrganizationID: "org_acme", CompanyID: "cmp_acmestudio", FirstName: "Ada", LastName: "Lovelace",
				Email: "ada@acme.test", IsOrgAdmin: true, IsAccessApproved: &yes},
			{ID: "usr_grace", OrganizationID: "org_acme", CompanyID: "cmp_acmestudio", FirstName: "Grace", LastName: "Hopper",
				Email: "grace@acme.test", InvitedByID: "usr_ada"},
			{ID: "usr_alan", OrganizationID: "org_acme", CompanyID: "cmp_acmestudio", FirstName: "Alan", LastName: "Turing",
				Email: "alan@acme.test", InvitedByID: "usr_ada"},
			{ID: "usr_katherine", OrganizationID: "org_acme", CompanyID: "cmp_acmestudio", FirstName: "Katherine", LastName: "Johnson",
				Email: "katherine@acme.test", Avatar: text("https://avatars.acme.test/katherine.png"), InvitedByID: "usr_grace"},
			{ID: "usr_bea", OrganizationID: "org_acme", CompanyID: "cmp_bluebird", FirstName: "Bea", LastName: "Baker",
				Email: "bea@bluebird.test", InvitedByID: "usr_ada"},
			{ID: "usr_ed", OrganizationID: "org_acme", CompanyID: "cmp_acmestudio", FirstName: "Ed", LastName: "Pending",
				Email: "ed@acme.test", IsAccessApproved: &no, OnboardingRequired: true, InvitedByID: "usr_ada"},
			{ID: "usr_hank", OrganizationID: "org_globex", CompanyID: "cmp_globexhq", FirstName: "Hank", LastName: "Scorpio",
				Email: "hank@globex.test", IsOrgAdmin: true},
		},
		Tokens: []Token{
			{UserID: "usr_ada", Token: "demo-ada-token"},
			{UserID: "usr_grace", Token: "demo-grace-token"},
			{UserID: "usr_alan", Token: "demo-alan-token"},
			{UserID: "usr_katherine", Token: "demo-katherine-token"},
			{UserID: "usr_bea", Token: "demo-bea-token"},
			{UserID: "usr_ed", Token: "demo-ed-token"},
			{UserID: "usr_hank", Token: "demo-hank-token"},
		},
	}
}

// demoProjects are the demo world's projects, phases and trigger event.
func demoProjects() ([]Project, []Phase, []Event) {
	return []Project{
			{ID: "prj_website", OrganizationID: "org_acme", Name: "Bluebird website",
				MemberIDs: []string{"usr_grace", "usr_alan", "usr_bea", "usr_ed"}},
			{ID: "prj_outreach", OrganizationID: "org_acme", Name: "Spring outreach",
				MemberIDs: []string{"usr_ada", "usr_grace", "usr_katherine", "usr_bea"}},
			{ID: "prj_launch", OrganizationID: "org_globex", Name: "Globex launch", MemberIDs: []string{"usr_hank"}},
		}, []Phase{
			{ID: "phs_webdiscovery", ProjectID: "prj_website", Name: "Discovery", Internal: true},
			{ID: "phs_webdesign", ProjectID: "prj_website", Name: "Design"},
			{ID: "phs_weblaunch", ProjectID: "prj_website", Name: "Launch"},
			{ID: "phs_outplanning", ProjectID: "prj_outreach", Name: "Planning", Internal: true},
			{ID: "phs_outcampaign", ProjectID: "prj_outreach", Name: "Campaign"},
			{ID: "phs_launchplan", ProjectID: "prj_launch", Name: "Plan"},
		}, []Event{
			{ID: "evt_replyreceived", OrganizationID: "org_acme", Name: "email.received", Entity: "email",
				EntityID: "eml_0001", Message: text("Bluebird replied to the spring offer"),
				Data: []byte(`{"from": "orders@bluebird.test", "subject": "Re: Spring offer"}`)},
		}
}

// demoTasks are the demo world's tasks, with their assignees and data.
func demoTasks() []Task {
	return []Task{
		{ID: "tsk_webresearch", ProjectID: "prj_website", PhaseID: "phs_webdiscovery", Label: "Analyse the kickoff call",
			Type: "CALL_ANALYSIS", AssigneeIDs: []string{"usr_grace", "usr_alan"}},
		{ID: "tsk_webcopy", ProjectID: "prj_website", PhaseID: "phs_webdesign", Label: "Approve the welcome email",
			Description: text("Bea signs off the text of the first newsletter."),
			Type:        "SCHEDULED_EMAIL_APPROVAL", AssigneeIDs: []string{"usr_bea"}},
		{ID: "tsk_webmockups", ProjectID: "prj_website", PhaseID: "phs_webdesign", Label: "Answer questions on the mockups",
			Type: "AUTO_RESPONSE_EMAIL", Status: "PROCESSING"},
		{ID: "tsk_weblaunchcall", ProjectID: "prj_website", PhaseID: "phs_weblaunch", Label: "Approve the launch call",
			Type: "SCHEDULED_CALL_APPROVAL", Status: "COMPLETED", ActionTaken: text("COMPLETE"),
			AssigneeIDs: []string{"usr_alan"}},
		{ID: "tsk_outbudget", ProjectID: "prj_outreach", PhaseID: "phs_outplanning", Label: "Summarise last season's payments",
			Type: "ACTIVITY_SUMMARY_PAYMENTS", AssigneeIDs: []string{"usr_katherine"}},
		{ID: "tsk_outcontacts", ProjectID: "prj_outreach", PhaseID: "phs_outcampaign", Label: "Add the new contact from Bluebird",
			Type: "RECOMMENDATION_NEW_CONTACT", TriggerEventID: "evt_replyreceived",
			Data: []TaskData{{ID: "tdt_replycontact", Data: []byte(`{"name": "Robin Crumb", "email": "robin@bluebird.test"}`)}}},
		{ID: "tsk_outreply", ProjectID: "prj_outreach", PhaseID: "phs_outcampaign", Label: "Call back about the offer",
			Type: "AUTO_RESPONSE_CALL", Status: "FAILED", ErrorReason: text("the number was not reachable"),
			AssigneeIDs: []string{"usr_grace", "usr_katherine"}},
		{ID: "tsk_outcleanup", ProjectID: "prj_outreach", PhaseID: "phs_outcampaign", Label: "Disable the bounced contact",
			Type: "DISABLE_CONTACT", Status: "CLOSED", ActionTaken: text("CLOSE"), CloseReason: text("the contact replied after all"),
			CompletedAction: []byte(`{"kept": true}`)},
		{ID: "tsk_launchplan", ProjectID: "prj_launch", PhaseID: "phs_launchplan", Label: "Summarise the outreach so far",
			Type: "ACTIVITY_SUMMARY_OUTREACH", AssigneeIDs: []string{"usr_hank"}},
	}
}

// text is a pointer to a copy of s, for the world's optional strings.
func text(s string) *string { return &s }
