import { useTheme } from '@material-ui/core/styles';

export interface BarDatum {
  label: string;
  value: number;
}

const WIDTH = 400;
const HEIGHT = 200;
const PAD = { top: 16, right: 8, bottom: 36, left: 32 };
const MAX_BAR = 40;
const FONT = 12;

/**
 * A plain SVG bar chart that scales with its container. Screen readers get
 * the whole series in the label.
 */
export const BarChart = (props: {
  data: BarDatum[];
  /** What the chart shows, e.g. "Completed retirements per day". */
  title: string;
  /** How many x labels to show at most (they thin out evenly). */
  maxLabels?: number;
  color?: string;
}) => {
  const theme = useTheme();
  const { data } = props;
  const max = Math.max(1, ...data.map(d => d.value));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = data.length ? innerW / data.length : innerW;
  const barW = Math.min(MAX_BAR, Math.max(1, slot * 0.7));
  const every = Math.max(1, Math.ceil(data.length / (props.maxLabels ?? 6)));
  const fill = props.color ?? theme.palette.primary.main;
  const text = theme.palette.text.secondary;
  const description = `${props.title}: ${
    data.length ? data.map(d => `${d.label} ${d.value}`).join(', ') : 'no data'
  }`;

  return (
    <svg
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width="100%"
      role="img"
      aria-label={description}
      style={{ display: 'block' }}
    >
      <title>{description}</title>
      <line
        x1={PAD.left}
        x2={WIDTH - PAD.right}
        y1={PAD.top + innerH}
        y2={PAD.top + innerH}
        stroke={theme.palette.divider}
      />
      <text
        x={PAD.left - 6}
        y={PAD.top + 4}
        textAnchor="end"
        fontSize={FONT}
        fill={text}
      >
        {max}
      </text>
      <text
        x={PAD.left - 6}
        y={PAD.top + innerH}
        textAnchor="end"
        fontSize={FONT}
        fill={text}
      >
        0
      </text>
      {data.map((d, i) => {
        const h = (d.value / max) * innerH;
        const x = PAD.left + i * slot + (slot - barW) / 2;
        return (
          <g key={`${d.label}-${i}`}>
            <rect
              x={x}
              y={PAD.top + innerH - h}
              width={barW}
              height={h}
              fill={fill}
              rx={2}
            >
              <title>{`${d.label}: ${d.value}`}</title>
            </rect>
            {i % every === 0 && (
              <text
                x={x + barW / 2}
                y={HEIGHT - PAD.bottom + 16}
                textAnchor="middle"
                fontSize={FONT}
                fill={text}
              >
                {d.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
};
