# bench/latency.gp: command round trip at 100 commands/s by percentile,
# vigil beside Hubot, drawn from the data files bench/report.py writes:
#
#   gnuplot -e "dir='bench/results'; vlabel='vigil ...'; hlabel='Hubot ...'" bench/latency.gp
#
# reads DIR/latency-vigil.dat and DIR/latency-hubot.dat (columns: 1/(1-p),
# percentile, latency in ms) and writes DIR/latency.png.
#
# Why x = 1/(1-p) on a log scale: every decade to the right is one more
# nine (90%, 99%, 99.9%), so the tail, which is what a user waits on, gets
# as much room as the body.  Latency is on a log scale too, because the
# two bots differ several-fold and a linear axis would flatten vigil.

if (!exists("dir"))    dir = "bench/results"
if (!exists("vlabel")) vlabel = "vigil"
if (!exists("hlabel")) hlabel = "Hubot"
if (!exists("target")) target = 2.0      # ms: vigil's p99 target at 100/s

set encoding utf8
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 900,500 noenhanced font "Sans,10" linewidth 1.2
} else {
    set terminal png size 900,500 font "Sans,10"
}
set output dir."/latency.png"

set title "Command round trip at 100 commands/s (\"whoami\" on the fake Slack, all runs pooled)"
set xlabel "percentile (log scale of 1/(1-p): one decade per extra nine)"
set ylabel "round trip (ms, log scale)"
set logscale xy
# tic labels are formats: %% is a per cent sign
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000)
set xrange [1:*]
set format y "%g"
set ytics add ("0.2" 0.2, "0.5" 0.5, "2" 2, "5" 5, "20" 20, "50" 50, "200" 200, "500" 500)
set grid xtics ytics mytics lc rgb "#dddddd"
# the curves rise to the right, so the bottom right corner stays clear
set key bottom right Left reverse box opaque
set border 3
set tics nomirror

plot dir."/latency-vigil.dat" using 1:3 with lines lw 2 lc rgb "#1f77b4" title vlabel, \
     dir."/latency-hubot.dat" using 1:3 with lines lw 2 lc rgb "#d62728" title hlabel, \
     target with lines dt 2 lw 1.5 lc rgb "#555555" title sprintf("vigil target: p99 ≤ %g ms", target)
