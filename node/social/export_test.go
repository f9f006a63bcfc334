package social

// The SQL of the lists, for the tests of their query plans.
var (
	ResourcesSQL = resourcesSQL
	FeedSQL      = feedSQL
	NodeFollows  = nodeFollows
	ActorFollows = actorFollows
	AdaptedBySQL = adaptedBySQL
	CommentsSQL  = commentsSQL
	ProfileSQL   = profileSQL
	ViewTables   = viewTables
)
