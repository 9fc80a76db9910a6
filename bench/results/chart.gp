set terminal pngcairo size 1400,900 font ',10'
set output 'chart.png'
set multiplot layout 2,2
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -30 nomirror
set grid ytics
set yrange [0:*]
unset key
set title '64 B ping-pong: thousand msgs/s'
unset logscale y
set yrange [0:*]
plot 'chart.dat' using 2:xtic(1) lc rgb '#3a6ea5'
set title '64 B ping-pong: thousand msgs per server CPU-second'
unset logscale y
set yrange [0:*]
plot 'chart.dat' using 3:xtic(1) lc rgb '#3a6ea5'
set title 'open loop: p99 latency (µs, log scale)'
set logscale y
set yrange [1:*]
plot 'chart.dat' using 4:xtic(1) lc rgb '#3a6ea5'
set title 'idle: server KiB per connection'
unset logscale y
set yrange [0:*]
plot 'chart.dat' using 5:xtic(1) lc rgb '#3a6ea5'
unset multiplot
