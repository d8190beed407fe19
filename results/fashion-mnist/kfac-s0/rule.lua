-- kfac.lua: paper.lua's policy on the K-FAC natural score.
--
-- The same decision as paper.lua (discounted unbiased score η·exp(−λ·Δp²)
-- more than τ times the current score, after a warm-up and a cool-down), with
-- the core computing η from Kronecker-factored Fisher blocks instead of the
-- diagonal: slower to score, closer to the true natural gradient. K-FAC's
-- ratios for a layer are like the diagonal's (1.0-1.5 on CIFAR-10), so τ is
-- the same 1.3, and paper.lua's settings apply (--rule-arg tau=…). A widening
-- scores about 1.0 under K-FAC (rules/README.md, "Choosing τ"), so this rule
-- grows by layers.
--
-- The rule is paper.lua's table, loaded with stock(), with two fields changed:
-- how to derive your own rule from a stock one.

local rule = stock("paper.lua", ...)
rule.name = "kfac"
rule.score = "kfac"
return rule
