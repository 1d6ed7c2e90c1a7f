package statemachine

// Pricing is what the cost estimate charges, in USD. The defaults are AWS's public on-demand
// prices for us-east-1 with arm64 Lambda functions, without free tier.
type Pricing struct {
	// PerTransition is the price of one Standard workflow state transition ($0.025 per 1,000).
	PerTransition float64 `json:"perTransition"`
	// PerLambdaRequest is the price of one Lambda invocation ($0.20 per 1M requests).
	PerLambdaRequest float64 `json:"perLambdaRequest"`
	// PerLambdaGBSecond is the price of one GB-second of Lambda duration on arm64.
	PerLambdaGBSecond float64 `json:"perLambdaGbSecond"`
}

// DefaultPricing is us-east-1, arm64.
var DefaultPricing = Pricing{
	PerTransition:     0.025 / 1000,
	PerLambdaRequest:  0.20 / 1e6,
	PerLambdaGBSecond: 0.0000133334,
}

func (p Pricing) withDefaults() Pricing {
	if p.PerTransition == 0 {
		p.PerTransition = DefaultPricing.PerTransition
	}
	if p.PerLambdaRequest == 0 {
		p.PerLambdaRequest = DefaultPricing.PerLambdaRequest
	}
	if p.PerLambdaGBSecond == 0 {
		p.PerLambdaGBSecond = DefaultPricing.PerLambdaGBSecond
	}
	return p
}

// Cost is the estimated price of transitions state transitions and the Lambda invocations.
func (p Pricing) Cost(transitions, lambdaInvocations int, lambdaGBSeconds float64) float64 {
	return float64(transitions)*p.PerTransition + float64(lambdaInvocations)*p.PerLambdaRequest +
		lambdaGBSeconds*p.PerLambdaGBSecond
}
